"""Simulate one team's work: issues and their life cycles, MRs, sprint membership."""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field
from random import Random

from generator import mess as rates
from generator.calendar import Window, add_work_hours, at_hour, is_day_off, is_working_day
from generator.model import IdAlloc, IssuePlan, MRPlan, Sprint
from generator.org import BOTS, Person, Team
from generator.scenario import KnobSchedule
from generator.text import TeamText, ascii_fold

PREWINDOW_WEEKS = 8
ISSUES_PER_ENGINEER_WEEK = 1.9
CHORE_MRS_PER_ENGINEER_WEEK = 0.1
RENOVATE_MRS_PER_PROJECT_WEEK = 0.5
SPRINT_DAYS = 14

VERBS = (
    "Add",
    "Fix",
    "Refactor",
    "Improve",
    "Remove",
    "Support",
    "Migrate",
    "Validate",
    "Cache",
    "Expose",
    "Document",
    "Harden",
    "Speed up",
    "Split",
    "Retry",
)
OBJECTS = (
    "payment webhook",
    "login form",
    "search ranking",
    "order export",
    "rate limiter",
    "audit log",
    "feature flag",
    "session store",
    "invoice PDF",
    "push token refresh",
    "config loader",
    "health check",
    "retry policy",
    "pagination",
    "CSV import",
    "user settings page",
    "metrics endpoint",
    "cart totals",
    "email templates",
    "db migration",
    "API client",
    "error banner",
    "timeout handling",
    "admin filters",
)
LABELS = ("backend", "frontend", "tech-debt", "customer", "security", "performance", "api", "ux")
DEPENDENCIES = (
    "lodash",
    "requests",
    "django",
    "react",
    "pydantic",
    "jest",
    "go-redis",
    "spring-boot",
    "axios",
)


@dataclass
class TeamParams:
    """Per-team baseline behaviour (varies a little between teams, stable per seed)."""

    review_pickup_hours: float
    review_duration_hours: float
    dev_median_hours: float
    deploy_delay_hours: float
    knobs: dict[str, float]

    def summary(self) -> dict[str, object]:
        return {
            "base_review_pickup_work_hours": round(self.review_pickup_hours, 2),
            "base_review_duration_work_hours": round(self.review_duration_hours, 2),
            "base_dev_median_work_hours": round(self.dev_median_hours, 2),
            "base_deploy_delay_work_hours": round(self.deploy_delay_hours, 2),
            "knobs": {k: round(v, 4) for k, v in self.knobs.items()},
        }


def team_params(seed: int, team: Team, baseline: dict[str, float]) -> TeamParams:
    rng = Random(f"{seed}:{team.slug}:params")
    knobs = dict(baseline)
    for k in ("ci_flaky_rate", "ci_failure_rate", "blocked_probability", "incident_rate"):
        knobs[k] = round(baseline[k] * rng.uniform(0.75, 1.25), 4)
    return TeamParams(
        review_pickup_hours=rng.uniform(3.0, 5.0),
        review_duration_hours=rng.uniform(4.0, 7.0),
        dev_median_hours=rng.uniform(10.0, 16.0),
        deploy_delay_hours=rng.uniform(4.0, 12.0),
        knobs=knobs,
    )


def poisson(rng: Random, lam: float) -> int:
    if lam <= 0:
        return 0
    if lam > 30:
        return max(0, round(rng.gauss(lam, math.sqrt(lam))))
    limit, k, p = math.exp(-lam), 0, 1.0
    while True:
        p *= rng.random()
        if p <= limit:
            return k
        k += 1


def new_sha(rng: Random) -> str:
    return f"{rng.getrandbits(160):040x}"


def short_slug(text: str, n: int = 4) -> str:
    words = "".join(c if c.isalnum() else " " for c in ascii_fold(text).lower()).split()
    return "-".join(words[:n])


@dataclass
class TeamSim:
    team: Team
    window: Window
    sched: KnobSchedule
    params: TeamParams
    rng: Random  # times the work: the planted effects live here
    mess: Random  # decides the edge cases of generator/mess.py (own stream: never shifts a timing)
    text: TeamText
    ids: IdAlloc
    issues: list[IssuePlan] = field(default_factory=list)
    mrs: list[MRPlan] = field(default_factory=list)
    sprints: list[Sprint] = field(default_factory=list)
    _iids: dict[int, int] = field(default_factory=dict)

    @property
    def cutoff(self) -> dt.datetime:
        return self.window.cutoff

    # ------------------------------------------------------------------ issues
    def run(self) -> TeamSim:
        first_week = 1 - PREWINDOW_WEEKS
        for week in range(first_week, self.window.weeks + 1):
            monday = self.window.week_start(week)
            # people on the team this week, times the share of the week's working days that are not days off
            n_eng = len(self._people_in_week(week)) * self._working_share(monday)
            lam = n_eng * ISSUES_PER_ENGINEER_WEEK * self.sched.at_week("arrival_rate_multiplier", week)
            arrivals = [(self._work_time_in_week(monday), False) for _ in range(poisson(self.rng, lam))]
            unplanned = self.sched.at_week("unplanned_work_rate", week)
            if unplanned > 0:  # interrupts: drawn only when planted, so other runs keep their timings
                n_unplanned = poisson(self.rng, lam * unplanned)
                arrivals += [(self._work_time_in_week(monday), True) for _ in range(n_unplanned)]
            for t, is_unplanned in sorted(arrivals):
                if t < self.cutoff:
                    self._sim_issue(t, unplanned=is_unplanned)
            for _ in range(poisson(self.rng, n_eng * CHORE_MRS_PER_ENGINEER_WEEK)):
                self._chore_mr(self._work_time_in_week(monday))
            for _ in range(poisson(self.rng, RENOVATE_MRS_PER_PROJECT_WEEK * len(self.team.projects))):
                self._renovate_mr(monday)
        if self.team.workflow.scrum:
            self._plan_sprints()
        self.mrs.sort(key=lambda m: (m.created, m.id))
        return self

    def _working_days(self, first_day: dt.date) -> list[dt.date]:
        days = [first_day + dt.timedelta(days=d) for d in range(7)]
        return [d for d in days if is_working_day(d)]

    def _working_share(self, first_day: dt.date) -> float:
        return len(self._working_days(first_day)) / 5

    def _work_time_in_week(self, first_day: dt.date) -> dt.datetime:
        day = self.rng.choice(self._working_days(first_day))
        return at_hour(day, 9 + self.rng.random() * 9)

    def _people_in_week(self, week: int) -> tuple[Person, ...]:
        """The engineers on the team in ``week``: the first ``headcount_multiplier`` share of the roster (at
        least one; the roster's order is fixed, so leavers and joiners are the same people every week)."""
        share = self.sched.at_week("headcount_multiplier", week)
        roster = self.team.engineers
        if share >= 1:
            return roster
        return roster[: max(1, round(len(roster) * share))]

    def _people(self, t: dt.datetime) -> tuple[Person, ...]:
        return self._people_in_week(self.window.week_of(t))

    def _reviewers(self, t: dt.datetime) -> tuple[Person, ...]:
        """Who reviews at ``t``: the first ``reviewer_capacity`` share of the people on the team."""
        people = self._people(t)
        capacity = self.sched.at("reviewer_capacity", t)
        if capacity >= 1:
            return people
        return people[: max(1, round(len(people) * capacity))]

    def _sim_issue(
        self, created: dt.datetime, not_before: dt.datetime | None = None, *, unplanned: bool = False
    ) -> IssuePlan:
        """Simulate one issue's life. ``not_before`` holds its start back (backlog pulled into a sprint
        the team does not get to); ``unplanned`` work (an urgent bug) is started at once."""
        rng, wf, s, p = self.rng, self.team.workflow, self.sched, self.params
        num = len(self.issues) + 1
        r = rng.random()
        itype = "Story" if r < 0.5 else "Bug" if r < 0.75 else "Task"
        r = rng.random()
        priority = "Medium" if r < 0.6 else "High" if r < 0.8 else "Low" if r < 0.95 else "Highest"
        if unplanned:
            itype, priority = "Bug", "Highest" if r < 0.3 else "High"
        verb, obj = rng.choice(VERBS), rng.choice(OBJECTS)
        summary, description = self.text.issue(itype, verb, obj, [p.name for p in self.team.projects])
        labels = sorted(rng.sample(LABELS, rng.choice((0, 1, 1, 2))))
        issue = IssuePlan(
            id=10000 + self.team.idx * 100_000 + num,
            key=f"{self.team.key}-{num}",
            issuetype=itype,
            summary=summary,
            priority=priority,
            labels=labels,
            created=created,
            reporter=rng.choice(self._people(created)),
            description=description,
        )
        self.issues.append(issue)
        st = issue.statuses
        st.append((created, wf.todo))
        if rng.random() < 0.05:  # cancelled straight from the backlog
            self._finish(issue, add_work_hours(created, rng.expovariate(1 / 40)), wf.cancelled)
            return issue
        wait = rng.expovariate(1 / 30) if rng.random() > 0.15 else rng.expovariate(1 / 150)  # some wait long
        if unplanned:
            wait = min(wait, 2.0) * 0.25
        if wf.selected:
            st.append((add_work_hours(created, wait * 0.6), wf.selected))
        start = add_work_hours(created, wait)
        if not_before is not None and start < not_before:
            start = add_work_hours(not_before, rng.uniform(0, 8))
        elif not_before is None and wait < 2.0 and self.mess.random() < rates.CHANGE_BEFORE_CREATED:
            # filed for work already under way and moved on at once; the changelog clock runs 1-90 s behind
            start = created - dt.timedelta(seconds=self.mess.uniform(1, 90))
            if wf.selected:
                st[-1] = (start - dt.timedelta(seconds=2), wf.selected)
        issue.started = start
        assignee = None if rng.random() < 0.07 else rng.choice(self._people(start))
        if assignee is not None:
            issue.assignees.append((start, assignee))
        st.append((start, wf.in_progress))
        dev = rng.lognormvariate(math.log(p.dev_median_hours), 0.7) * s.at("cycle_time_multiplier", start)
        if not unplanned:  # interrupts take the share of the team's time they arrive with from planned work
            dev *= 1 + s.at("unplanned_work_rate", start)
        if rng.random() < 0.03:  # cancelled while in progress
            self._finish(issue, add_work_hours(start, dev * 0.5), wf.cancelled)
            return issue
        if rng.random() < s.at("blocked_probability", start):
            dev += self._block(issue, start, dev)
        vendor = s.at("vendor_block_rate", start)
        if vendor > 0 and rng.random() < vendor:  # drawn only when planted: other runs keep their timings
            dev += self._block(issue, start, dev, vendor=True)
        dev_end = add_work_hours(start, dev)
        t = dev_end
        p_mr = {"Story": 0.56, "Bug": 0.5, "Task": 0.2}[itype]
        if rng.random() < p_mr:
            author = assignee or rng.choice(self._people(start))
            k = 1 if rng.random() < 0.72 else 2 if rng.random() < 0.7 else 3
            ends = []
            for j in range(k):
                ready = dev_end if j == 0 else add_work_hours(dev_end, rng.uniform(0.5, 8))
                mr = self._feature_mr(issue, author, start, ready, j)
                issue.mrs.append(mr)
                ends.append(mr.merged or ready)
            # waiting for review (MR ready, nobody on it yet) is its own status, then active review
            ready = min(m.ready for m in issue.mrs)
            st.append((ready, wf.awaiting_review))
            reviews = [
                m.first_review for m in issue.mrs if m.first_review is not None and m.first_review > ready
            ]
            if reviews:
                st.append((min(reviews), wf.review))
            t = max(ends)
        if wf.name == "W1" and rng.random() < 0.6:
            # merged work queues for the testers before QA picks it up (waiting between active steps): the
            # QA phase's time, split into the queue and the testing
            qa = rng.expovariate(1 / 5) + 0.3
            queued = qa * self.mess.uniform(0.3, 0.7)
            st.append((t, "Ready for QA"))
            st.append((add_work_hours(t, queued), "QA"))
            t = add_work_hours(t, qa)
        elif wf.name == "W2":
            st.append((t, "Ready for QA"))
            t = add_work_hours(t, rng.expovariate(1 / 6) + 0.2)
            st.append((t, "Testing"))
            t = add_work_hours(t, rng.expovariate(1 / 4) + 0.3)
        elif wf.name == "W3":
            st.append((t, "Ready for Release"))
            t = add_work_hours(t, rng.expovariate(1 / 10) + 0.5)
        self._finish(issue, t, wf.done)
        if rng.random() < 0.06:  # reopened after done
            r1 = add_work_hours(t, rng.expovariate(1 / 24) + 1)
            if wf.reopened:
                st.append((r1, wf.reopened))
                r1 = add_work_hours(r1, rng.expovariate(1 / 6) + 0.2)
            st.append((r1, wf.in_progress))
            st.append((add_work_hours(r1, rng.expovariate(1 / 10) + 1), wf.done))
        if wf.renamed_done and self.mess.random() < rates.DONE_RENAME[wf.name]:  # done -> done, not rework
            st.append((add_work_hours(st[-1][0], self.mess.expovariate(1 / 16) + 1), wf.renamed_done))
        issue.history_lost = self.mess.random() < rates.HISTORY_LOST
        return issue

    def _finish(self, issue: IssuePlan, t: dt.datetime, status: str) -> None:
        issue.statuses.append((t, status))
        issue.finished = t

    def _block(self, issue: IssuePlan, start: dt.datetime, dev: float, *, vendor: bool = False) -> float:
        """A blocked window via the Blocked/On Hold status, the Flagged field, or both overlapping. Waiting
        on an external ``vendor`` lasts days (a ticket in someone else's queue), not hours."""
        rng, wf = self.rng, self.team.workflow
        b0 = add_work_hours(start, dev * rng.uniform(0.2, 0.8))
        base = rng.expovariate(1 / 30) + 8 if vendor else rng.expovariate(1 / 14) + 1
        hours = base * self.sched.at("blocked_duration_multiplier", b0)
        b1 = add_work_hours(b0, hours)
        mode = rng.random()
        if mode < 0.45 or mode >= 0.8:
            issue.statuses.append((b0, wf.blocked))
            issue.statuses.append((b1, wf.in_progress))
        if mode >= 0.45:
            if mode >= 0.8:  # flag raised before the status change and cleared after it: overlapping
                issue.flags.append((add_work_hours(start, dev * 0.1), True))
                issue.flags.append((add_work_hours(b1, 1.0), False))
            else:
                issue.flags.append((b0, True))
                issue.flags.append((b1, False))
        return hours

    # ------------------------------------------------------------------ merge requests
    def _iid(self, project_id: int) -> int:
        self._iids[project_id] = self._iids.get(project_id, 0) + 1
        return self._iids[project_id]

    def _review(
        self, ready: dt.datetime, reviewer_pool: tuple[Person, ...], author: Person
    ) -> tuple[Person, dt.datetime, dt.datetime, dt.datetime]:
        rng, s, p = self.rng, self.sched, self.params
        reviewer = rng.choice([e for e in reviewer_pool if e != author] or list(reviewer_pool))
        # the same reviews queue on fewer reviewers: waits grow faster than the load (a queue near capacity)
        capacity = max(s.at("reviewer_capacity", ready), 0.05)
        pickup = rng.expovariate(1 / p.review_pickup_hours) * s.at("review_pickup_multiplier", ready)
        pickup *= capacity**-1.5
        first = add_work_hours(ready, pickup + 0.05)
        dur = rng.expovariate(1 / p.review_duration_hours) * s.at("review_duration_multiplier", first)
        dur *= capacity**-0.5
        approved = add_work_hours(first, dur + 0.1)
        merged = add_work_hours(approved, rng.uniform(0.1, 1.5))
        return reviewer, first, approved, merged

    def _new_mr(
        self,
        kind: str,
        author: Person,
        title: str,
        branch: str,
        description: str,
        created: dt.datetime,
        ready: dt.datetime,
        draft: bool,
        work_start: dt.datetime,
    ) -> MRPlan:
        rng = self.rng
        project = rng.choice(self.team.projects)
        approved: dt.datetime | None
        merged: dt.datetime | None
        first: dt.datetime | None
        reviewer: Person | None
        reviewer, first, approved, merged = self._review(ready, self._reviewers(ready), author)
        planned_first = first
        closed: dt.datetime | None = None
        if rng.random() < 0.04:  # abandoned
            closed, merged, approved = add_work_hours(first, rng.uniform(1, 20)), None, None
        merged_by = reviewer if merged else None
        self_approved: dt.datetime | None = None
        mess = self.mess
        # authors bypass an overloaded review queue more often (the draw is the same: timings do not move)
        capacity = max(self.sched.at("reviewer_capacity", ready), 0.2)
        bypass = min(1.0, rates.MERGED_WITHOUT_REVIEW[kind] / capacity)
        if merged and mess.random() < bypass:
            first = approved = None
            merged, merged_by = add_work_hours(ready, mess.uniform(0.1, 2.0)), author
            if kind == "renovate" or mess.random() >= rates.UNREVIEWED_REVIEWER_REQUESTED:
                reviewer = None  # Renovate automerges; otherwise nobody was asked
            if kind != "renovate" and mess.random() < rates.SELF_APPROVED_UNREVIEWED:
                self_approved = max(ready, merged - dt.timedelta(minutes=mess.uniform(1, 5)))
        elif merged and approved and kind != "renovate" and mess.random() < rates.SELF_APPROVED_REVIEWED:
            self_approved = ready + (approved - ready) * mess.uniform(0.1, 0.9)
        mr = MRPlan(
            id=self.ids.next("mr"),
            iid=self._iid(project.id),
            project=project,
            author=author,
            kind=kind,
            title=title,
            source_branch=branch,
            description=description,
            created=created,
            ready=ready,
            draft=draft,
            reviewer=reviewer,
            first_review=first,
            approved=approved,
            merged=merged,
            closed=closed,
            merged_by=merged_by,
            self_approved=self_approved,
            additions=int(rng.lognormvariate(4, 1.1)) + 1,
            deletions=int(rng.lognormvariate(3, 1.1)),
            files=1 + int(rng.expovariate(1 / 4)),
        )
        n_commits = 1 + min(int(rng.expovariate(1 / 1.5)), 6)
        span = max((ready - work_start).total_seconds(), 60.0)
        times = sorted(work_start + dt.timedelta(seconds=rng.uniform(0, span)) for _ in range(n_commits))
        times[-1] = min(times[-1], ready - dt.timedelta(minutes=2))
        if rng.random() < 0.04:  # weekend commit
            sat = times[0].date() - dt.timedelta(days=(times[0].weekday() - 5) % 7)
            weekend = at_hour(sat, 11 + rng.random() * 8)
            if work_start - dt.timedelta(days=3) < weekend < ready:
                times[0] = weekend
                times.sort()
        # An MR merged without review draws the fix-up it never gets, so every later timing of the team stays
        # where it was (the planted effects are tuned on this stream).
        unused = 0
        if rng.random() < 0.4 and planned_first:  # fix-up after review feedback
            at = rng.uniform(0.2, 0.9)
            if first:
                end = approved or closed or first
                times.append(first + (end - first) * at)
            else:
                unused = 1
        mr.commit_times = times
        mr.shas = [new_sha(rng) for _ in times]
        for _ in range(unused):
            new_sha(rng)
        mr.merge_sha = new_sha(rng) if merged else ""
        self.mrs.append(mr)
        return mr

    def _feature_mr(
        self, issue: IssuePlan, author: Person, start: dt.datetime, ready: dt.datetime, j: int
    ) -> MRPlan:
        rng = self.rng
        draft = rng.random() < 0.3
        created = add_work_hours(start, rng.uniform(0.3, 2.0)) if draft else ready
        if created > ready:
            created = ready
        title = issue.summary if j == 0 else f"{issue.summary} (part {j + 1})"
        slug = short_slug(title)
        r = rng.random()
        unlinked = self.sched.at("unlinked_work_rate", ready)
        placement = "none" if r < unlinked else "branch" if r < unlinked + 0.15 else "title"
        body = self.text.mr_body(title)
        if placement == "title":
            t_title = f"[{issue.key}] {title}" if rng.random() < 0.2 else f"{issue.key}: {title}"
            branch = f"{issue.key}-{slug}" if rng.random() < 0.5 else f"feature/{issue.key.lower()}-{slug}"
            desc = f"Closes {issue.key}\n\n{body}"
        elif placement == "branch":
            t_title, branch, desc = title, f"feature/{issue.key}-{slug}", body
        else:
            t_title, branch, desc = title, f"{author.username.split('.')[0]}/{slug}", body
        mr = self._new_mr("feature", author, t_title, branch, desc, created, ready, draft, start)
        mr.issue_key = issue.key if placement != "none" else None
        mr.key_placement = placement
        mr.labels = list(issue.labels)
        return mr

    def _chore_mr(self, created: dt.datetime) -> None:
        rng = self.rng
        author = rng.choice(self._people(created))
        title = (
            f"{rng.choice(('Fix flaky test in', 'Bump timeout for', 'Tidy up', 'Log more context in'))} "
            f"{rng.choice(OBJECTS)}"
        )
        self._new_mr(
            "chore",
            author,
            title,
            f"{author.username.split('.')[0]}/{short_slug(title)}",
            "Small fix, no ticket.",
            created,
            created,
            False,
            created - dt.timedelta(hours=2),
        )

    def _renovate_mr(self, monday: dt.date) -> None:
        rng = self.rng
        bot = BOTS["renovate"]
        dep = rng.choice(DEPENDENCIES)
        version = f"{rng.randrange(1, 9)}.{rng.randrange(0, 30)}.{rng.randrange(0, 10)}"
        created = at_hour(
            monday + dt.timedelta(days=(5 - monday.weekday()) % 7 + rng.randrange(2)), 2 + rng.random() * 4
        )  # weekend
        mr = self._new_mr(
            "renovate",
            bot,
            f"chore(deps): update dependency {dep} to v{version}",
            f"renovate/{dep}-{version.split('.')[0]}.x",
            f"This MR updates `{dep}` to `v{version}`.",
            created,
            created,
            False,
            created - dt.timedelta(minutes=5),
        )
        mr.labels = ["dependencies"]

    # ------------------------------------------------------------------ sprints
    def _plan_sprints(self) -> None:
        rng, team = self.rng, self.team
        anchor = self.window.week_start(1 - PREWINDOW_WEEKS)
        first = anchor - dt.timedelta(days=anchor.weekday())
        sprints: list[Sprint] = []
        k = 0
        while True:
            start = at_hour(first + dt.timedelta(days=SPRINT_DAYS * k), 9)
            if k > 0 and sprints[-1].start >= self.cutoff:
                break
            end = start + dt.timedelta(days=SPRINT_DAYS - 3, hours=8)  # Friday 17:00 of week two
            sid = 1000 + team.idx * 1000 + k + 1
            sprints.append(
                Sprint(
                    id=sid,
                    name=f"{team.key} Sprint {k + 1}",
                    board_id=team.board_id,
                    start=start,
                    end=end,
                    complete=end + dt.timedelta(minutes=30 + rng.randrange(120)),
                    goal=f"Deliver {rng.choice(OBJECTS)}",
                )
            )
            k += 1
        self.sprints = sprints
        member: dict[int, tuple[int, ...]] = {}
        by_id = {i.id: i for i in self.issues}
        issues = [i for i in self.issues if i.started is not None or i.finished is None]

        def change(issue: IssuePlan, t: dt.datetime, ids: tuple[int, ...]) -> None:
            if t < self.cutoff:
                issue.sprints.append((t, ids))
                member[issue.id] = ids

        def home(issue: IssuePlan) -> int | None:
            if issue.started is None:
                return None
            for n, sp in enumerate(sprints):
                if sp.start <= issue.started < sp.start + dt.timedelta(days=SPRINT_DAYS):
                    return n
            return None

        homes = {i.id: home(i) for i in issues}
        for n, sp in enumerate(sprints):
            planning = sp.start - dt.timedelta(minutes=30)
            # carried over into this sprint at the last one's completion: work in progress or starting here
            # (its home sprint is this one or an earlier one), or idle scope the team will not start here
            carried_in = [iid for iid, ids in member.items() if sp.id in ids]
            carried_work = sum((home_n := homes.get(iid)) is not None and home_n <= n for iid in carried_in)
            planned = 0
            for issue in issues:
                if homes[issue.id] != n or sp.id in member.get(issue.id, ()):
                    continue
                late = issue.started is not None and (issue.started - sp.start).days >= 3
                if issue.created < planning and not (late and rng.random() < 0.5):
                    change(issue, planning, (*member.get(issue.id, ()), sp.id))
                    planned += 1
                else:  # scope added after the sprint started
                    t = max(
                        issue.created,
                        (issue.started or sp.start) - dt.timedelta(minutes=rng.randrange(5, 90)),
                    )
                    change(
                        issue, max(t, sp.start + dt.timedelta(minutes=5)), (*member.get(issue.id, ()), sp.id)
                    )
            # The team commits `ratio` times the work it really works on in the sprint (what it plans new plus
            # the carried-over work in progress or starting here); idle scope it carries over takes the place
            # of new extra scope, so the committed scope stays `ratio` times the capacity sprint after sprint.
            # Unplanned work takes its share of the sprint the team planned at its usual capacity: planned
            # as if there were none, the sprint is over-committed by that share too.
            ratio = self.sched.at("sprint_overcommit_ratio", sp.start) * (
                1 + self.sched.at("unplanned_work_rate", sp.start)
            )
            capacity = planned + carried_work
            extra = max(0, round(capacity * ratio) - capacity - (len(carried_in) - carried_work))
            pool = [
                i
                for i in issues
                if i.id not in member
                and i.created < planning
                and ((home_n := homes[i.id]) is None or home_n > n)
                and (i.finished is None or i.finished > sp.end)
            ]
            rng.shuffle(pool)
            # Over-commitment pulls groomed backlog the team will not start this sprint. When the backlog
            # is too shallow to supply it, the team files that backlog during grooming before planning; the
            # team has no capacity for it, so it is not started within the data (it rolls over from sprint
            # to sprint as idle scope) and over-commitment never adds throughput.
            for _ in range(extra - len(pool)):
                groomed = planning - dt.timedelta(days=rng.uniform(1, 10))
                while is_day_off(groomed.date()):  # nobody grooms on a holiday: the day before
                    groomed -= dt.timedelta(days=1)
                later = max(sp.end, self.cutoff) + dt.timedelta(days=rng.uniform(0, 10))
                backlog = self._sim_issue(groomed, not_before=later)
                issues.append(backlog)
                by_id[backlog.id] = backlog
                homes[backlog.id] = home(backlog)
                pool.append(backlog)
            for issue in pool[:extra]:
                change(issue, planning, (sp.id,))
            removed = rng.choice((0, 1, 1, 2))
            for issue in pool[extra : extra + removed]:  # planned, then removed mid-sprint
                change(issue, planning, (sp.id,))
                change(issue, sp.start + dt.timedelta(days=rng.randrange(2, 8), hours=rng.random() * 6), ())
            if n + 1 < len(sprints):  # carry-over of unfinished work at sprint completion
                nxt = sprints[n + 1]
                for iid, ids in list(member.items()):
                    issue = by_id[iid]
                    if ids and ids[-1] == sp.id and (issue.finished is None or issue.finished > sp.end):
                        change(issue, sp.complete, (*ids, nxt.id))
