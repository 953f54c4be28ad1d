"""Simulate the GitLab activity around one team's MRs: notes, pipelines and jobs, deployments, incidents."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from random import Random

from generator.calendar import add_work_hours
from generator.model import Deployment, IssuePlan, Job, MRPlan, Note, Pipeline
from generator.org import BOTS, GitlabProject, Person
from generator.simulate import TeamSim, new_sha
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
BOT_NOTES = (
    "Thanks for the MR! Please make sure a changelog entry is added.",
    ":warning: This MR touches CODEOWNERS-protected paths; an owner approval is required.",
)
SEC = dt.timedelta(seconds=1)


@dataclass
class GitlabSim:
    sim: TeamSim
    rng: Random
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
        return self

    # ------------------------------------------------------------------ notes
    def _note(
        self, mr: MRPlan, author: Person, body: str, at: dt.datetime, system: bool, diff: bool = False
    ) -> None:
        if at < self.cutoff:
            self.notes.append(Note(self.sim.ids.next("note"), mr, author, body, at, system, diff))

    def _notes(self, mr: MRPlan) -> None:
        rng = self.rng
        if mr.kind != "renovate" and rng.random() < 0.15:
            self._note(
                mr, BOTS["gitlab"], rng.choice(BOT_NOTES), mr.created + dt.timedelta(seconds=40), False
            )
        if mr.draft:
            self._note(mr, mr.author, "marked this merge request as **ready**", mr.ready, True)
        if mr.reviewer is None or mr.first_review is None:
            return
        self._note(mr, mr.author, f"requested review from @{mr.reviewer.username}", mr.ready + 5 * SEC, True)
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
    ) -> Pipeline:
        rng = self.rng
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
            for a in range(attempts):
                started = clock + dt.timedelta(seconds=rng.uniform(1, 20))
                dur = dt.timedelta(seconds=minutes * 60 * rng.uniform(0.6, 1.5))
                finished = started + (dur * 0.5 if (a == 0 and attempts == 2) else dur)
                job = Job(self.sim.ids.next("job"), name, stage, "success", t, started, finished)
                if a == 0 and attempts == 2:
                    job.status, job.retried, job.failure_reason = "failed", True, "script_failure"
                elif n == fail_at:
                    job.status, job.failure_reason = "failed", "script_failure"
                    failed = True
                pipe.jobs.append(job)
                clock = finished
        pipe.finished = clock
        pipe.status = "failed" if failed else "success"
        if pipe.finished < self.cutoff:
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
            merged_by = mr.reviewer or mr.author
            main = (("build", "build", 3.0), ("test", "test", 9.0), ("deploy-staging", "deploy", 2.0))
            flaky = rng.random() < s.at("ci_flaky_rate", mr.merged)
            pipe = self._pipeline(
                mr.project, mr.merge_sha, "main", "push", merged_by, mr.merged + 20 * SEC, main, flaky=flaky
            )
            if pipe.finished < self.cutoff:
                job = pipe.jobs[-1]
                if not flaky and rng.random() < 0.03:
                    job.status, job.failure_reason, pipe.status = "failed", "script_failure", "failed"
                self._deployment(mr.project, "staging", "staging", pipe, job, merged_by, [mr], False)

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
        )
        self.deployments.append(dep)
        return dep

    def _deploy(self, project: GitlabProject) -> None:
        rng, s, p = self.rng, self.sim.sched, self.sim.params
        merged = sorted(
            (m for m in self.sim.mrs if m.project is project and m.merged and m.merged < self.cutoff),
            key=lambda m: (m.merged, m.id),
        )
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
            spec = ((f"deploy-{project.prod_env}", "deploy", 4.0),)
            sha = batch[-1].merge_sha
            failed = rng.random() < 0.07
            pipe = self._pipeline(project, sha, "main", "web", user, at, spec, fail=failed)
            if pipe.finished >= self.cutoff:
                return
            self._deployment(
                project,
                project.prod_env,
                "production",
                pipe,
                pipe.jobs[-1],
                user,
                batch,
                not failed and rng.random() < 0.88,
            )
            if failed:  # re-run after the failure
                retry_at = pipe.finished + dt.timedelta(minutes=rng.uniform(20, 120))
                pipe = self._pipeline(project, sha, "main", "web", user, retry_at, spec)
                if pipe.finished >= self.cutoff:
                    return
                dep = self._deployment(
                    project,
                    project.prod_env,
                    "production",
                    pipe,
                    pipe.jobs[-1],
                    user,
                    batch,
                    rng.random() < 0.88,
                )
            else:
                dep = self.deployments[-1]
            if rng.random() < s.at("incident_rate", pipe.finished):
                self._incident(pipe.finished + dt.timedelta(hours=rng.expovariate(1 / 4)), dep)

    # ------------------------------------------------------------------ incidents (Jira OPS or GitLab)
    def _spontaneous_incidents(self) -> None:
        w = self.sim.window
        for week in range(1, w.weeks + 1):
            if self.rng.random() < 0.05:
                t = w.start_dt + dt.timedelta(days=7 * (week - 1) + self.rng.random() * 7)
                self._incident(t, None)

    def _incident(self, t: dt.datetime, dep: Deployment | None) -> None:
        inc = plan_incident(self.rng, self.sim.team, self.sim.window, len(self.incidents) + 1, t, dep)
        if inc is not None:
            self.incidents.append(inc)
