"""How often each edge case of the realistic mess happens (docs/generator.md, "The mess", lists each with
how it looks in the data). Every decision below draws from a team's own *mess* stream
(``{seed}:{team}:mess`` for Jira and MRs, ``{seed}:{team}:gitlab-mess`` for GitLab activity), never from
the streams that time the work, so tuning a rate here leaves the planted scenario effects where they are."""

from __future__ import annotations

# ---------------------------------------------------------------- Jira
# An engineer files a ticket for work already under way and moves it straight on; the changelog's clock is
# 1-90 s behind the issue's `created`, so the first status change is timestamped before `created`. Only
# issues the simulation starts within 2 working hours of filing anyway (~6%): their timing barely moves.
CHANGE_BEFORE_CREATED = 0.3  # of issues started within 2 working hours of creation (~1.5% of started issues)
# Jira returns no changelog at all (imported from another tracker, or history purged): a done issue whose
# done time only `resolutiondate` / `updated` tell.
HISTORY_LOST = 0.015  # of issues that reach done
# A done -> done rename after the issue is done (not rework, must not move done_at): W1 Done -> Released
# when the release ships, W3 Resolved -> Closed when the release manager closes resolved work.
DONE_RENAME = {"W1": 0.06, "W3": 0.25}  # of done issues of the workflow

# ---------------------------------------------------------------- merge requests and reviews
# Merged without any review activity: chores and Renovate MRs often (Renovate automerge), features rarely.
MERGED_WITHOUT_REVIEW = {"feature": 0.03, "chore": 0.3, "renovate": 0.4}  # of merged MRs of the kind
UNREVIEWED_REVIEWER_REQUESTED = 0.5  # of human MRs merged without review: a reviewer was asked, never came
SELF_APPROVED_UNREVIEWED = 0.4  # of human MRs merged without review: the author approves their own MR
SELF_APPROVED_REVIEWED = 0.015  # of reviewed MRs: the author approves too, beside the reviewer
REVIEW_COMMENT_ON_DRAFT = 0.1  # of draft MRs that stay draft for >= 1 h: a teammate comments before ready
POST_MERGE_NOTE = 0.05  # of merged reviewed human MRs: a review note after the merge
POST_MERGE_NOTE_UNREVIEWED = 0.3  # of merged unreviewed human MRs: somebody reviews after the fact

# ---------------------------------------------------------------- CI and deployments
# An amended commit pushed 2-9 minutes before the next push: its MR pipeline is auto-canceled.
CANCELED_SUPERSEDED_PUSH = 0.05  # of MR pushes after the first
SKIP_CI_PUSHES_PER_PROJECT_WEEK = 0.3  # direct `[skip ci]` pushes to main: a `skipped` pipeline, no jobs
NIGHTLY_E2E_MINUTES = 90.0  # the nightly scheduled pipeline (23:00 UTC, main project) is still running
# at the midnight cutoff: the snapshot always catches it `running`
SECOND_PRODUCTION_REGION = {"prod-eu": "prod-us"}  # one pipeline deploys both regions
DEPLOYMENT_WITHOUT_FINISHED_AT = 0.04  # of successful deployments (older API / Deployments API records)

# ---------------------------------------------------------------- incidents
# How a deployment-caused incident that cites its cause does it (the share that cites one is unchanged, 65%).
CAUSE_REFERENCE = (("deployment", 0.5), ("sha", 0.25), ("merge_request", 0.25))
# of incidents: the write-up names the MR that fixed it and its merge commit (both later than the incident:
# the fix, never the cause)
FIX_MR_REFERENCE = 0.3
