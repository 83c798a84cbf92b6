"""Training to a time budget: a plan from a timed trial, re-planned from the run's own pace (genlearn.train.budget)."""

import time

import torch

from genlearn.train import FitOptions, fit
from genlearn.train.budget import Replan, StepPlan, plan_steps
from genlearn.train.schedules import linear_decay

BUDGET = 1.5  # seconds


def make_trainer(pace: dict, lrs: list):
    """A run whose steps take ``pace['s']`` seconds, with a linear decay over the whole (re-)planned run."""

    def trainer(steps, fit: FitOptions):
        p = torch.nn.Parameter(torch.zeros(()))
        opt = torch.optim.SGD([p], lr=1.0)
        schedule = linear_decay(opt, fit.plan if fit.plan is not None else steps, 1.0)

        def step(batch):
            time.sleep(pace["s"])
            opt.step()
            schedule.step()
            lrs.append(opt.param_groups[0]["lr"])
            return {"loss": 0.0}

        return None, fit_run(step, steps, fit)

    return trainer


def fit_run(step, steps, options):
    return fit(step, iter(lambda: 0, 1), steps=steps, modules={}, options=options)


def test_a_trial_slowed_on_purpose_no_longer_cuts_the_run_short():
    pace, lrs = {"s": 0.03}, []
    trainer = make_trainer(pace, lrs)
    planned, per_step = plan_steps(trainer, 100_000, BUDGET)  # a busy machine during the trial: 30 ms per step
    assert per_step > 0.025 and planned < 0.9 * BUDGET / 0.025
    pace["s"] = 0.005  # the run itself is 6x faster

    lrs.clear()
    began = time.perf_counter()
    _, fixed = trainer(planned, FitOptions(time_budget=BUDGET, progress=False))
    fixed_s = time.perf_counter() - began
    assert fixed.steps[-1] == planned and fixed_s < 0.5 * BUDGET  # without re-planning: over in a fraction of the budget

    lrs.clear()
    plan = StepPlan(planned)
    replan = Replan(plan, BUDGET, 100_000, n=10)
    replan.start(0)
    began = time.perf_counter()
    _, history = trainer(planned, FitOptions(time_budget=BUDGET, progress=False, plan=plan, callbacks=[replan]))
    used = time.perf_counter() - began
    assert history.steps[-1] > 2 * planned and used > 0.7 * BUDGET  # re-planned from the run's own pace
    assert history.steps[-1] == int(plan) and history.events["replan"]
    assert lrs[planned - 1] > 0.4 and lrs[-1] < 0.05  # the decay follows the plan: not over at the first plan's end, ~0 at the last step


def test_a_plan_is_checkpointed_and_a_resumed_run_keeps_it(tmp_path):
    plan = StepPlan(10)

    def step(batch):
        if len(seen) == 5:
            plan.total = 30  # re-planned mid-run
        seen.append(1)
        return {"loss": 0.0}

    seen: list[int] = []
    ckpt = tmp_path / "run.pt"
    fit_run(step, 10, FitOptions(plan=plan, checkpoint=ckpt, checkpoint_every=1, progress=False))
    assert len(seen) == 30
    resumed = StepPlan(10)  # the plan a fresh command would start from
    history = fit_run(lambda b: {"loss": 0.0}, 10, FitOptions(plan=resumed, checkpoint=ckpt, progress=False))
    assert int(resumed) == 30 and history.steps[-1] == 30
