"""Superset dashboards as code: the dashboard definitions (``dashboards``), their rendering into the import
bundle under ``superset/assets/`` (``assets``), and provisioning/serving Superset 6.1 from its own virtualenv
(``runtime``, ``client``, ``provision``). Superset is never imported here: it runs as a separate interpreter,
driven by subprocess (its CLI, gunicorn) and HTTP."""
