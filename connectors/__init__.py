"""Live source connectors (Jira Cloud, GitLab, webhooks) that store API documents in raw.

They arrive with the live-connectors work; they write through ``warehouse.loader`` exactly like the
synthetic generator, so everything downstream is unchanged.
"""
