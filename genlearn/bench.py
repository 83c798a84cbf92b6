"""Step times of two reference architectures on this machine, with CUDA's speed-ups switched on one by one::

    python -m genlearn.bench                         # DCGAN-64 at batch 128 and CycleGAN-256 at batch 1
    python -m genlearn.bench --seconds 30 --out bench.json
    python -m genlearn.bench --cases ddpm32,ddpm32-plain   # DDPM's CIFAR-10 U-Net: the library's step vs a plain loop
    python -m genlearn.bench --cases ddpm16,ddpm16-plain --modes fp32   # chapter 13's digits U-Net, as a CPU trains it

Each case times the library's own training step (both players' updates) on a fixed random batch, in four modes:

* ``fp32``: float32, contiguous (NCHW) tensors, eager (``Precision(amp=False, channels_last=False)``);
* ``amp``: mixed precision (bfloat16 where the GPU has it, else float16 with a GradScaler);
* ``amp+channels-last``: and channels-last models and batches (what every trainer does on CUDA);
* ``amp+channels-last+compile``: and every network through ``torch.compile``.

A mode is timed for ``--seconds`` after a few warm-up steps (the first of which, with ``compile``, includes
compiling); the table gives the median step time, steps per second and the ratio to ``fp32`` in the same run. On a
CPU, AMP and channels-last are off in every mode (genlearn uses them on CUDA only), so only ``compile`` changes
the code there. The CycleGAN step leaves out the image pool, which copies one image per step.

``ddpm32`` times chapter 13's step (:func:`~genlearn.train.ddpm.ddpm_step` on the shared set-up, with its EMA and
warmup) on DDPM's CIFAR-10 U-Net (35.7M parameters) at batch 128; ``ddpm32-plain`` the same update written as a
minimal PyTorch loop (no set-up, no history), so that their ratio, printed under the table, is the library's
overhead. ``ddpm16`` and ``ddpm16-plain`` do the same with the net and settings chapter 13 trains on the digits in
the cpu profile (:meth:`~genlearn.models.ddpm.DDPMConfig.digits` at width 32,
:meth:`~genlearn.train.ddpm.DDPMTrainConfig.digits`, 16x16 images, batch 128): a small net's step is where the
library's bookkeeping would show.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Callable, Sequence

import torch

from genlearn.models.cyclegan import CycleGAN, CycleGANConfig, CycleGANDiscriminators
from genlearn.models.dcgan import DCGANConfig, DCGANDiscriminator, DCGANGenerator
from genlearn.runtime import get_device
from genlearn.train.adversarial import Adversarial, AdversarialTrainConfig
from genlearn.train.cyclegan import CycleGANTrainConfig, discriminator_step, generator_step
from genlearn.train.gan import d_step, g_step
from genlearn.train.precision import Precision, using


@dataclass(frozen=True)
class Mode:
    """Which of CUDA's speed-ups a timing uses.

    Chapter 0.
    """

    amp: bool
    channels_last: bool
    compile: bool

    @property
    def precision(self) -> Precision:
        """The :class:`~genlearn.train.precision.Precision` the trainers' set-up is built with in this mode."""
        return Precision(amp=self.amp, channels_last=self.channels_last, reason="" if self.amp else "bench: the fp32 baseline")


MODES = {
    "fp32": Mode(False, False, False),
    "amp": Mode(True, False, False),
    "amp+channels-last": Mode(True, True, False),
    "amp+channels-last+compile": Mode(True, True, True),
}
CASES = ("dcgan64", "cyclegan256")  # the default cases
ALL_CASES = CASES + ("ddpm32", "ddpm32-plain", "ddpm16", "ddpm16-plain")


def _images(n: int, channels: int, size: int, generator: torch.Generator) -> torch.Tensor:
    return torch.rand(n, channels, size, size, generator=generator) * 2 - 1  # (n, C, S, S) in [-1, 1]


def _dcgan_step(device: torch.device, precision: Precision, *, tiny: bool = False, compile_backend: str | None = None) -> tuple[Callable[[], None], int]:
    """One DCGAN iteration (D's update, then G's) at 64x64, batch 128 (Radford et al. 2016), on the trainers' own
    set-up (:class:`~genlearn.train.adversarial.Adversarial`: devices, channels-last, Adam, the AMP scaler).

    Returns the closure and its batch size. ``compile_backend``: compile both networks with it (None: eager).
    """
    config, batch = (DCGANConfig(image_size=16, latent_dim=8, g_width=4, d_width=4), 4) if tiny else (DCGANConfig.reference(), 128)
    g = torch.Generator().manual_seed(0)
    x = _images(batch, config.channels, config.image_size, g)
    setup = Adversarial(DCGANGenerator(config), DCGANDiscriminator(config), x, config=AdversarialTrainConfig(batch_size=batch), steps=1, device=device,
                        precision=precision)  # fmt: skip
    G, D = setup.G, setup.D
    if compile_backend:
        G, D = torch.compile(G, backend=compile_backend), torch.compile(D, backend=compile_backend)
    x_real, z = setup.real(x.to(setup.device)), setup.latents(batch)

    def step() -> None:
        with using(setup.precision):
            d_step(G, D, setup.opt_d, x_real, z, scaler=setup.scaler)
            g_step(G, D, setup.opt_g, z, scaler=setup.scaler)

    return step, batch


def _cyclegan_step(device: torch.device, precision: Precision, *, tiny: bool = False, compile_backend: str | None = None) -> tuple[Callable[[], None], int]:
    """One CycleGAN iteration (both generators, then both discriminators) at 256x256, batch 1 (Zhu et al. 2017)."""
    config = CycleGANConfig.tiny(16, 3) if tiny else CycleGANConfig.reference()
    g = torch.Generator().manual_seed(0)
    a, b = _images(1, config.channels_a, config.image_size, g), _images(1, config.channels_b, config.image_size, g)
    setup = Adversarial(CycleGAN(config), CycleGANDiscriminators(config), a, config=CycleGANTrainConfig(), steps=1, device=device,
                        precision=precision)  # fmt: skip
    G, D = setup.G, setup.D
    if compile_backend:  # the step calls the four networks, not the two containers
        G.G_AB, G.G_BA = torch.compile(G.G_AB, backend=compile_backend), torch.compile(G.G_BA, backend=compile_backend)
        D.D_A, D.D_B = torch.compile(D.D_A, backend=compile_backend), torch.compile(D.D_B, backend=compile_backend)
    a, b = setup.real(a.to(setup.device)), setup.real(b.to(setup.device))

    def step() -> None:
        with using(setup.precision):
            _, fake_a, fake_b = generator_step(G, D, setup.opt_g, a, b, scaler=setup.scaler)
            discriminator_step(D, setup.opt_d, a, b, fake_a, fake_b, scaler=setup.scaler)

    return step, 1


def _ddpm_model(tiny: bool, digits: bool = False):
    """(the DDPM, its batch, its :class:`~genlearn.train.ddpm.DDPMTrainConfig`): CIFAR-10's (Ho et al.) or the digits'."""
    from genlearn.models.ddpm import DDPM, DDPMConfig
    from genlearn.models.diffusion_unet import DiffusionUNetConfig
    from genlearn.train.ddpm import DDPMTrainConfig

    config = DDPMTrainConfig.digits() if digits else DDPMTrainConfig()
    if tiny:
        return DDPM(DDPMConfig.tiny()), 4, config
    return DDPM(DDPMConfig.digits(width=32) if digits else DDPMConfig(unet=DiffusionUNetConfig.ddpm_cifar10())), 128, config


def _ddpm_step(device: torch.device, precision: Precision, *, tiny: bool = False, compile_backend: str | None = None,
               digits: bool = False) -> tuple[Callable[[], None], int]:  # fmt: skip
    """One DDPM update (Ho et al. Algorithm 1) with the library's step on the shared set-up: EMA, warmup, clipping."""
    from genlearn.train.ddpm import ddpm_step
    from genlearn.train.ema import EMA
    from genlearn.train.schedules import linear_warmup
    from genlearn.train.setup import Setup, adam

    model, batch, config = _ddpm_model(tiny, digits)
    c, s = model.config.unet.in_channels, model.config.unet.image_size
    x = _images(batch, c, s, torch.Generator().manual_seed(0))
    setup = Setup({"ddpm": model}, x, optimizers={"ddpm": adam(config.lr)}, schedules={"lr": ("ddpm", lambda o: linear_warmup(o, config.warmup))},
                  batch_size=batch, steps=1, device=device, ema=("ddpm", EMA(model, config.ema_decay)), precision=precision)  # fmt: skip
    net = setup.replica("ddpm")
    if compile_backend:
        setup.models["ddpm"].unet = torch.compile(setup.models["ddpm"].unet, backend=compile_backend)
    step_fn = ddpm_step(net, setup.opt["ddpm"], scaler=setup.scaler, max_grad_norm=config.max_grad_norm)
    x_real = setup.real(x.to(setup.device))

    def step() -> None:
        with using(setup.precision):
            step_fn(x_real)
            setup.end_step()

    step.network = setup.models["ddpm"]  # type: ignore[attr-defined]  (a test compares the two cases' updates)
    return step, batch


def _ddpm_plain_step(device: torch.device, precision: Precision, *, tiny: bool = False, compile_backend: str | None = None,
                     digits: bool = False) -> tuple[Callable[[], None], int]:  # fmt: skip
    """The same update as ``ddpm32`` (``ddpm16``) as a minimal PyTorch loop: the yardstick of the library's overhead."""
    import copy

    model, batch, config = _ddpm_model(tiny, digits)
    precision = precision.on(device)
    c, s = model.config.unet.in_channels, model.config.unet.image_size
    x = _images(batch, c, s, torch.Generator().manual_seed(0)).to(device)
    model = model.to(device)
    if precision.channels_last:
        model, x = model.to(memory_format=torch.channels_last), x.contiguous(memory_format=torch.channels_last)
    ema = copy.deepcopy(model).requires_grad_(False)
    opt = torch.optim.Adam(model.parameters(), lr=config.lr)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda i: min(1.0, (i + 1) / config.warmup))
    ab = model.schedule.alpha_bar.float().to(device)
    unet = torch.compile(model.unet, backend=compile_backend) if compile_backend else model.unet
    bf16 = device.type == "cuda" and torch.cuda.is_bf16_supported()
    scaler = torch.amp.GradScaler("cuda", enabled=precision.amp and not bf16) if device.type == "cuda" else None
    updates = [0]

    def step() -> None:
        t = torch.randint(0, len(ab), (batch,), device=device)
        eps = torch.randn_like(x)
        a = ab[t].view(-1, 1, 1, 1)
        x_t = a.sqrt() * x + (1 - a).sqrt() * eps
        with torch.autocast("cuda", dtype=torch.bfloat16 if bf16 else torch.float16, enabled=precision.amp and device.type == "cuda"):
            out = unet(x_t, t.float())
        loss = (out.float() - eps).pow(2).mean()
        opt.zero_grad(set_to_none=True)
        if scaler is not None and scaler.is_enabled():
            scaler.scale(loss).backward()
            scaler.unscale_(opt)
            torch.nn.utils.clip_grad_norm_(model.parameters(), config.max_grad_norm)
            scaler.step(opt)
            scaler.update()
        else:
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), config.max_grad_norm)
            opt.step()
        sched.step()
        updates[0] += 1
        decay = min(config.ema_decay, (1 + updates[0]) / (10 + updates[0]))
        with torch.no_grad():
            for p_ema, p in zip(ema.parameters(), model.parameters()):
                p_ema.lerp_(p, 1 - decay)
        loss.item()  # the library's step logs the loss: the same synchronization

    step.network = model  # type: ignore[attr-defined]
    return step, batch


BUILDERS = {"dcgan64": _dcgan_step, "cyclegan256": _cyclegan_step, "ddpm32": _ddpm_step, "ddpm32-plain": _ddpm_plain_step,
            "ddpm16": partial(_ddpm_step, digits=True), "ddpm16-plain": partial(_ddpm_plain_step, digits=True)}  # fmt: skip


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def time_step(case: str, mode: str, *, seconds: float = 15.0, warmup: int = 5, device: torch.device | str | None = None,
              tiny: bool = False, compile_backend: str = "inductor") -> dict:  # fmt: skip
    """Time ``case``'s training step in ``mode`` for about ``seconds`` after ``warmup`` steps.

    Returns a record: case, mode, device, batch, ``first_step_s`` (with compiling, where compiled), ``step_ms``
    (median), ``steps_per_s``, ``images_per_s`` and the number of timed steps.

    Chapters 0 and 13.
    """
    if case not in BUILDERS:
        raise ValueError(f"unknown case {case!r}; choose from {', '.join(ALL_CASES)}")
    if mode not in MODES:
        raise ValueError(f"unknown mode {mode!r}; choose from {', '.join(MODES)}")
    device = torch.device(device) if device is not None else get_device()
    torch.manual_seed(0)
    step, batch = BUILDERS[case](device, MODES[mode].precision, tiny=tiny, compile_backend=compile_backend if MODES[mode].compile else None)
    began = time.perf_counter()
    step()
    _sync(device)
    first = time.perf_counter() - began
    for _ in range(warmup - 1):
        step()
    _sync(device)
    times: list[float] = []
    end = time.perf_counter() + seconds
    while not times or time.perf_counter() < end:
        t0 = time.perf_counter()
        step()
        _sync(device)
        times.append(time.perf_counter() - t0)
    median = statistics.median(times)
    return {"case": case, "mode": mode, "device": str(device), "batch": batch, "first_step_s": first, "step_ms": median * 1e3,
            "steps_per_s": 1 / median, "images_per_s": batch / median, "timed_steps": len(times)}  # fmt: skip


def table(records: Sequence[dict]) -> str:
    """A markdown table of :func:`time_step` records, each with its ratio to the same case's ``fp32`` time.

    Chapters 0 and 13.
    """
    fp32 = {r["case"]: r["step_ms"] for r in records if r["mode"] == "fp32" and "step_ms" in r}
    lines = ["| case | mode | ms / step | steps / s | speed-up vs fp32 | first step (s) |", "| --- | --- | --- | --- | --- | --- |"]
    for r in records:
        if "error" in r:
            lines.append(f"| {r['case']} | {r['mode']} | failed: {r['error']} | | | |")
            continue
        ratio = f"{fp32[r['case']] / r['step_ms']:.2f}x" if r["case"] in fp32 else ""
        lines.append(f"| {r['case']} | {r['mode']} | {r['step_ms']:.1f} | {r['steps_per_s']:.2f} | {ratio} | {r['first_step_s']:.1f} |")
    return "\n".join(lines)


def _overheads(records: Sequence[dict]) -> list[str]:
    """One line per case timed beside its ``-plain`` twin in the same mode: the library's median step time over the
    plain loop's, the library's overhead (``ddpm16`` / ``ddpm16-plain``). Timed one after the other, so a ratio
    carries the machine's drift between the two windows: repeat it before reading a few per cent into it.
    """
    ms = {(r["case"], r["mode"]): r["step_ms"] for r in records if "step_ms" in r}
    return [f"{case} / {case}-plain ({mode}): {ms[case, mode] / ms[f'{case}-plain', mode]:.3f}x"
            for (case, mode) in ms if (f"{case}-plain", mode) in ms]  # fmt: skip


class _UsageError(Exception):
    """A mistake on the command line: one sentence, exit status 2."""


def _names(text: str, known: Sequence[str], what: str) -> list[str]:
    names = [n.strip() for n in text.split(",") if n.strip()]
    unknown = [n for n in names if n not in known]
    if unknown or not names:
        raise _UsageError(f"unknown {what} {', '.join(unknown) or '(none given)'}; choose from {', '.join(known)}")
    return names


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m genlearn.bench``: time every case in every mode, print the table, write ``--out`` as JSON.

    Chapter 0.
    """
    parser = argparse.ArgumentParser(prog="python -m genlearn.bench", description=__doc__.split("::")[0].strip())
    parser.add_argument("--cases", default=",".join(CASES), help=f"comma-separated, from {', '.join(ALL_CASES)} (default: {', '.join(CASES)})")
    parser.add_argument("--modes", default=",".join(MODES), help=f"comma-separated, from {', '.join(MODES)}")
    parser.add_argument("--seconds", type=float, default=15.0, help="timed seconds per case and mode (default 15)")
    parser.add_argument("--device", default=None, help="cuda, mps or cpu (default: the best there is)")
    parser.add_argument("--compile-backend", default="inductor", help="torch.compile's backend (default inductor)")
    parser.add_argument("--tiny", action="store_true", help="tiny models (a test of the code path, not a measurement)")
    parser.add_argument("--out", type=Path, default=None, help="also write the records to this JSON file")
    args = parser.parse_args(argv)
    try:
        cases, modes = _names(args.cases, ALL_CASES, "case"), _names(args.modes, tuple(MODES), "mode")
        if not args.seconds > 0:
            raise _UsageError(f"--seconds must be > 0, got {args.seconds}")
        try:
            device = get_device(args.device)
        except (ValueError, RuntimeError) as e:
            raise _UsageError(str(e)) from None
    except _UsageError as e:
        print(f"genlearn.bench: {e}", file=sys.stderr)
        return 2
    if device.type != "cuda":
        print(f"on {device.type}, AMP and channels-last are off in every mode (genlearn uses them on CUDA); only compile changes the code")
    records = []
    for case in cases:
        for mode in modes:
            try:
                record = time_step(case, mode, seconds=args.seconds, device=device, tiny=args.tiny, compile_backend=args.compile_backend)
            except Exception as e:  # e.g. no C++ compiler for inductor: the other modes still count
                first = (str(e).strip().splitlines() or [type(e).__name__])[0][:200]
                record = {"case": case, "mode": mode, "device": str(device), "error": f"{type(e).__name__}: {first}"}
            records.append(record)
            print(f"{case} {mode}: " + (record["error"] if "error" in record else f"{record['step_ms']:.1f} ms per step"), flush=True)
    print(table(records))
    for line in _overheads(records):
        print(line)
    if args.out is not None:
        info = {"torch": torch.__version__, "device_name": torch.cuda.get_device_name(device) if device.type == "cuda" else device.type}
        args.out.write_text(json.dumps({"environment": info, "records": records}, indent=1))
        print(f"wrote {args.out}")
    return 0


__all__ = ["ALL_CASES", "CASES", "MODES", "Mode", "main", "table", "time_step"]


if __name__ == "__main__":
    sys.exit(main())
