"""Simulate the GitLab activity around one team's MRs: notes, pipelines and jobs, deployments, incidents."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from random import Random

from generator import mess as rates
from generator.calendar import add_work_hours, at_hour, is_working_day
from generator.model import Deployment, IssuePlan, Job, MRPlan, Note, Pipeline
from generator.org import BOTS, GitlabProject, Person
from generator.simulate import TeamSim, new_sha, poisson
from generator.simulate_incidents import plan_incident

REVIEW_COMMENTS = (
    "Could we add a test for the empty case?",
    "nit: naming",
    "Why not reuse the existing helper?",
    "This will N+1 on large accounts, can we batch?",
    "Looks good, one question inline.",
    "Please split this into two commits.",
    "Is the migration reversible?",
    "LGTM overall.",
)
REPLIES = (
    "Done.",
    "Good catch, fixed.",
    "Added a test.",
    "I'd rather keep it, see the linked ticket.",
    "Fixed.",
)
DRAFT_COMMENTS = (
    "Early look: the overall approach makes sense, ping me when it's ready.",
    "Not a full review yet, but this will conflict with the retry changes on main.",
    "Drive-by while it's a draft: we already have a helper for this in utils.",
)
POST_MERGE_COMMENTS = (
    "Late to this one: shouldn't this have a test for the timeout path? Happy to pair on a follow-up.",
    "Post-merge review: this swallows the exception, can we at least log it?",
    "Spotted after the merge: the migration isn't reversible. Follow-up ticket?",
    "FYI after the fact: LGTM, one nit on naming for next time.",
)
BOT_NOTES = (
    "Thanks for the MR! Please make sure a changelog entry is added.",
    ":warning: This MR touches CODEOWNERS-protected paths; an owner approval is required.",
)
SEC = dt.timedelta(seconds=1)


@dataclass
class GitlabSim:
    sim: TeamSim
    rng: Random  # times the GitLab activity: the planted CI effects live here
    mess: Random  # the edge cases of generator/mess.py (own stream: never shifts a timing)
    notes: list[Note] = field(default_factory=list)
    pipelines: list[Pipeline] = field(default_factory=list)
    deployments: list[Deployment] = field(default_factory=list)
    incidents: list[IssuePlan] = field(default_factory=list)
    _pipe_iids: dict[int, int] = field(default_factory=dict)
    _dep_iids: dict[int, int] = field(default_factory=dict)
    _envs: dict[tuple[int, str], int] = field(default_factory=dict)

    @property
    def cutoff(self) -> dt.datetime:
        return self.sim.window.cutoff

    def run(self) -> GitlabSim:
        for mr in self.sim.mrs:
            self._notes(mr)
            self._mr_pipelines(mr)
        for project in self.sim.team.projects:
            self._deploy(project)
        self._spontaneous_incidents()
        self._nightly_pipelines()
        self._skip_ci_pushes()
        return self

    def _teammate(self, author: Person) -> Person:
        return self.mess.choice([e for e in self.sim.team.engineers if e != author] or [author])

    # ------------------------------------------------------------------ notes
    def _note(
        self, mr: MRPlan, author: Person, body: str, at: dt.datetime, system: bool, diff: bool = False
    ) -> None:
        if at < self.cutoff:
            self.notes.append(Note(self.sim.ids.next("note"), mr, author, body, at, system, diff))

    def _notes(self, mr: MRPlan) -> None:
        rng, mess = self.rng, self.mess
        if mr.kind != "renovate" and rng.random() < 0.15:
            self._note(
                mr, BOTS["gitlab"], rng.choice(BOT_NOTES), mr.created + dt.timedelta(seconds=40), False
            )
        if mr.draft:
            if (
                mr.ready - mr.created >= dt.timedelta(hours=1)
                and mess.random() < rates.REVIEW_COMMENT_ON_DRAFT
            ):
                who = mr.reviewer if mr.reviewer and mr.reviewer != mr.author else self._teammate(mr.author)
                at = mr.created + (mr.ready - mr.created) * mess.uniform(0.2, 0.9)
                self._note(mr, who, mess.choice(DRAFT_COMMENTS), at, False, diff=True)
            self._note(mr, mr.author, "marked this merge request as **ready**", mr.ready, True)
        if mr.reviewer is not None:
            self._note(
                mr, mr.author, f"requested review from @{mr.reviewer.username}", mr.ready + 5 * SEC, True
            )
        if mr.reviewer is not None and mr.first_review is not None:
            self._note(mr, mr.reviewer, rng.choice(REVIEW_COMMENTS), mr.first_review, False, diff=True)
            end = mr.approved or mr.closed or mr.first_review
            for k in range(rng.choice((0, 0, 1, 2, 3))):
                at = mr.first_review + (end - mr.first_review) * rng.uniform(0.05, 0.95)
                if k % 2 == 0:
                    self._note(mr, mr.author, rng.choice(REPLIES), at, False, diff=True)
                else:
                    self._note(mr, mr.reviewer, rng.choice(REVIEW_COMMENTS), at, False, diff=True)
            if mr.approved:
                self._note(mr, mr.reviewer, "approved this merge request", mr.approved, True)
        if mr.self_approved:
            self._note(mr, mr.author, "approved this merge request", mr.self_approved, True)
        if mr.merged and mr.kind != "renovate":
            reviewed = mr.first_review is not None
            if mess.random() < (rates.POST_MERGE_NOTE if reviewed else rates.POST_MERGE_NOTE_UNREVIEWED):
                who = mr.reviewer if reviewed and mr.reviewer else self._teammate(mr.author)
                at = add_work_hours(mr.merged, mess.uniform(0.3, 24))
                self._note(mr, who, mess.choice(POST_MERGE_COMMENTS), at, False, diff=mess.random() < 0.5)

    # ------------------------------------------------------------------ pipelines
    def _pipeline(
        self,
        project: GitlabProject,
        sha: str,
        ref: str,
        source: str,
        user: Person,
        t: dt.datetime,
        spec: tuple[tuple[str, str, float], ...],
        fail: bool = False,
        flaky: bool = False,
        rng: Random | None = None,
        cancel_at: dt.datetime | None = None,
    ) -> Pipeline:
        """One pipeline created at ``t``, its jobs run stage after stage. A flaky job fails once and is
        retried automatically (the retry is a new job created when the first attempt fails). ``cancel_at``:
        canceled then (a newer push superseded it). Kept when created before the cutoff: one still going at
        the cutoff is rendered as running."""
        rng = rng or self.rng
        self._pipe_iids[project.id] = self._pipe_iids.get(project.id, 0) + 1
        pipe = Pipeline(
            id=self.sim.ids.next("pipeline"),
            iid=self._pipe_iids[project.id],
            project=project,
            sha=sha,
            ref=ref,
            source=source,
            user=user,
            created=t,
            started=t + dt.timedelta(seconds=2),
            finished=t,
            status="success",
        )
        clock = pipe.started
        fail_at = rng.randrange(len(spec)) if fail else -1
        flaky_at = rng.randrange(len(spec)) if flaky else -1
        failed = False
        for n, (name, stage, minutes) in enumerate(spec):
            if failed:
                pipe.jobs.append(Job(self.sim.ids.next("job"), name, stage, "skipped", t, None, None))
                continue
            attempts = 2 if n == flaky_at and n != fail_at else 1
            created = t
            for a in range(attempts):
                started = clock + dt.timedelta(seconds=rng.uniform(1, 20))
                dur = dt.timedelta(seconds=minutes * 60 * rng.uniform(0.6, 1.5))
                finished = started + (dur * 0.5 if (a == 0 and attempts == 2) else dur)
                job = Job(self.sim.ids.next("job"), name, stage, "success", created, started, finished)
                if a == 0 and attempts == 2:
                    job.status, job.failure_reason = "failed", "script_failure"
                    created = finished  # the automatic retry is created when this attempt fails
                elif n == fail_at:
                    job.status, job.failure_reason = "failed", "script_failure"
                    failed = True
                pipe.jobs.append(job)
                clock = finished
        pipe.finished = clock
        pipe.status = "failed" if failed else "success"
        if cancel_at is not None and cancel_at < pipe.finished:
            for job in pipe.jobs:
                if job.started is None or job.started >= cancel_at:
                    job.status, job.started, job.finished, job.failure_reason = (
                        "canceled",
                        None,
                        cancel_at,
                        None,
                    )
                elif job.finished is not None and job.finished > cancel_at:
                    job.status, job.finished, job.failure_reason = "canceled", cancel_at, None
            pipe.jobs = [j for j in pipe.jobs if j.created <= cancel_at]
            pipe.status, pipe.finished = "canceled", cancel_at
        if pipe.created < self.cutoff:
            self.pipelines.append(pipe)
        return pipe

    def _mr_pipelines(self, mr: MRPlan) -> None:
        s, rng = self.sim.sched, self.rng
        spec = (("build", "build", 3.0), ("test", "test", 9.0), ("lint", "test", 1.5))
        pushes: list[tuple[dt.datetime, str]] = []
        before = [sha for t, sha in zip(mr.commit_times, mr.shas, strict=False) if t <= mr.created]
        pushes.append((mr.created, before[-1] if before else mr.shas[0]))
        pushes += [(t, sha) for t, sha in zip(mr.commit_times, mr.shas, strict=False) if t > mr.created]
        ref = f"refs/merge-requests/{mr.iid}/head"
        for n, (t, sha) in enumerate(pushes):
            if n > 0 and self.mess.random() < rates.CANCELED_SUPERSEDED_PUSH:
                # an amended commit pushed a few minutes earlier: its pipeline is auto-canceled by this push
                early = t - dt.timedelta(minutes=self.mess.uniform(2, 9))
                if early > mr.created:
                    self._pipeline(
                        mr.project,
                        new_sha(self.mess),
                        ref,
                        "merge_request_event",
                        mr.author,
                        early + 30 * SEC,
                        spec,
                        rng=self.mess,
                        cancel_at=t + 30 * SEC,
                    )
            fail = rng.random() < s.at("ci_failure_rate", t)
            flaky = rng.random() < s.at("ci_flaky_rate", t)
            last = n == len(pushes) - 1
            pipe = self._pipeline(
                mr.project,
                sha,
                ref,
                "merge_request_event",
                mr.author,
                t + 30 * SEC,
                spec,
                fail=fail,
                flaky=flaky,
            )
            if last and fail and mr.merged:  # fix-up push so the MR can merge on a green pipeline
                fix_t = pipe.finished + (mr.merged - pipe.finished) * 0.5
                if fix_t > pipe.finished:
                    fix = new_sha(rng)
                    mr.commit_times.append(fix_t)
                    mr.shas.append(fix)
                    self._pipeline(
                        mr.project, fix, ref, "merge_request_event", mr.author, fix_t + 30 * SEC, spec
                    )
        if mr.merged:
            merged_by = mr.merged_by or mr.author
            main = (("build", "build", 3.0), ("test", "test", 9.0), ("deploy-staging", "deploy", 2.0))
            flaky = rng.random() < s.at("ci_flaky_rate", mr.merged)
            pipe = self._pipeline(
                mr.project, mr.merge_sha, "main", "push", merged_by, mr.merged + 20 * SEC, main, flaky=flaky
            )
            job = pipe.jobs[-1]
            if pipe.finished < self.cutoff:
                if not flaky and rng.random() < 0.03:
                    job.status, job.failure_reason, pipe.status = "failed", "script_failure", "failed"
                self._deployment(mr.project, "staging", "staging", pipe, job, merged_by, [mr], False)
            elif pipe.created < self.cutoff:  # still deploying at the cutoff
                self._deployment(mr.project, "staging", "staging", pipe, job, merged_by, [mr], False)

    def _nightly_pipelines(self) -> None:
        """A nightly scheduled pipeline on main of the team's first project at 23:00 UTC, with a long e2e
        stage: the last one is still running at the (midnight) cutoff."""
        s, mess, w = self.sim.sched, self.mess, self.sim.window
        project = self.sim.team.projects[0]
        merged = sorted(
            (m.merged, m.id, m.merge_sha)
            for m in self.sim.mrs
            if m.project is project and m.merged is not None
        )
        spec = (("build", "build", 3.0), ("test", "test", 9.0), ("e2e", "e2e", rates.NIGHTLY_E2E_MINUTES))
        owner = self.sim.team.engineers[0]
        sha, i = "", 0
        day = w.start - dt.timedelta(days=1)
        while day <= w.as_of:
            t = at_hour(day, 23) + dt.timedelta(minutes=mess.uniform(0, 12))
            while i < len(merged) and merged[i][0] < t:
                sha, i = merged[i][2], i + 1
            fail = mess.random() < s.at("ci_failure_rate", t)
            flaky = mess.random() < s.at("ci_flaky_rate", t)
            if sha:
                self._pipeline(project, sha, "main", "schedule", owner, t, spec, fail, flaky, rng=mess)
            day += dt.timedelta(days=1)

    def _skip_ci_pushes(self) -> None:
        """Direct pushes to main marked ``[skip ci]`` (docs, runbooks): GitLab records a ``skipped`` pipeline
        that never starts and has no jobs."""
        mess, w = self.mess, self.sim.window
        for project in self.sim.team.projects:
            for week in range(1, w.weeks + 1):
                for _ in range(poisson(mess, rates.SKIP_CI_PUSHES_PER_PROJECT_WEEK)):
                    day = w.week_start(week) + dt.timedelta(days=mess.randrange(7))
                    if not is_working_day(day):
                        continue
                    t = at_hour(day, 9 + mess.random() * 9)
                    self._pipe_iids[project.id] = self._pipe_iids.get(project.id, 0) + 1
                    pipe = Pipeline(
                        id=self.sim.ids.next("pipeline"),
                        iid=self._pipe_iids[project.id],
                        project=project,
                        sha=new_sha(mess),
                        ref="main",
                        source="push",
                        user=mess.choice(self.sim.team.engineers),
                        created=t,
                        started=t,
                        finished=t,
                        status="skipped",
                    )
                    if t < self.cutoff:
                        self.pipelines.append(pipe)

    # ------------------------------------------------------------------ deployments
    def _env_id(self, project: GitlabProject, name: str) -> int:
        key = (project.id, name)
        if key not in self._envs:
            self._envs[key] = self.sim.ids.next("env")
        return self._envs[key]

    def _deployment(
        self,
        project: GitlabProject,
        env: str,
        tier: str,
        pipe: Pipeline,
        job: Job,
        user: Person,
        mrs: list[MRPlan],
        link: bool,
    ) -> Deployment:
        self._dep_iids[project.id] = self._dep_iids.get(project.id, 0) + 1
        dep = Deployment(
            id=self.sim.ids.next("deployment"),
            iid=self._dep_iids[project.id],
            project=project,
            env_name=env,
            env_id=self._env_id(project, env),
            tier=tier,
            pipeline=pipe,
            job=job,
            user=user,
            mrs=mrs,
            link_mrs=link,
            reports_finished=self.mess.random() >= rates.DEPLOYMENT_WITHOUT_FINISHED_AT,
        )
        self.deployments.append(dep)
        return dep

    def _prod_deployments(
        self, project: GitlabProject, pipe: Pipeline, user: Person, batch: list[MRPlan], link: bool
    ) -> list[Deployment]:
        """One deployment per production region the pipeline's jobs deployed (skipped jobs deploy nothing)."""
        return [
            self._deployment(
                project, job.name.removeprefix("deploy-"), "production", pipe, job, user, batch, link
            )
            for job in pipe.jobs
            if job.status != "skipped"
        ]

    def _deploy(self, project: GitlabProject) -> None:
        rng, s, p = self.rng, self.sim.sched, self.sim.params
        merged = sorted(
            (m for m in self.sim.mrs if m.project is project and m.merged and m.merged < self.cutoff),
            key=lambda m: (m.merged, m.id),
        )
        spec = tuple((f"deploy-{env}", "deploy", 4.0) for env in project.prod_envs)
        i = 0
        while i < len(merged):
            first = merged[i].merged
            assert first is not None
            delay = (rng.expovariate(1 / p.deploy_delay_hours) + 0.3) * s.at("deploy_delay_multiplier", first)
            at = add_work_hours(first, delay)
            if at >= self.cutoff:
                return
            j = i
            while j < len(merged) and (merged[j].merged or at) <= at:
                j += 1
            batch = merged[i:j]
            i = j
            user = rng.choice(self.sim.team.engineers)
            sha = batch[-1].merge_sha
            failed = rng.random() < 0.07
            pipe = self._pipeline(project, sha, "main", "web", user, at, spec, fail=failed)
            if pipe.finished >= self.cutoff:  # still deploying at the cutoff
                self._prod_deployments(project, pipe, user, batch, False)
                return
            deps = self._prod_deployments(project, pipe, user, batch, not failed and rng.random() < 0.88)
            if failed:  # re-run after the failure
                retry_at = pipe.finished + dt.timedelta(minutes=rng.uniform(20, 120))
                pipe = self._pipeline(project, sha, "main", "web", user, retry_at, spec)
                if pipe.finished >= self.cutoff:
                    self._prod_deployments(project, pipe, user, batch, False)
                    return
                deps = self._prod_deployments(project, pipe, user, batch, rng.random() < 0.88)
            if rng.random() < s.at("incident_rate", pipe.finished):
                dep = deps[0] if len(deps) == 1 else self.mess.choice(deps)
                self._incident(pipe.finished + dt.timedelta(hours=rng.expovariate(1 / 4)), dep)

    # ------------------------------------------------------------------ incidents (Jira OPS or GitLab)
    def _spontaneous_incidents(self) -> None:
        w = self.sim.window
        for week in range(1, w.weeks + 1):
            if self.rng.random() < 0.05:
                t = w.start_dt + dt.timedelta(days=7 * (week - 1) + self.rng.random() * 7)
                self._incident(t, None)

    def _fix_mr(self, project: GitlabProject, t: dt.datetime) -> MRPlan | None:
        """The first human MR of ``project`` merged after ``t``: the fix an incident write-up may name."""
        later = [
            m
            for m in self.sim.mrs
            if m.project is project and m.kind != "renovate" and m.merged and t < m.merged < self.cutoff
        ]
        return min(later, key=lambda m: (m.merged or t, m.id), default=None)

    def _incident(self, t: dt.datetime, dep: Deployment | None) -> None:
        inc = plan_incident(
            self.rng,
            self.mess,
            self.sim.text,
            self.sim.team,
            self.sim.window,
            len(self.incidents) + 1,
            t,
            dep,
            self._fix_mr,
        )
        if inc is not None:
            self.incidents.append(inc)
