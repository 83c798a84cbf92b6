"""``python -m genlearn``: train a model and sample from a finished run.

    python -m genlearn train dcgan --data digits --out runs/dcgan          # ~5 minutes on 2 CPU cores
    python -m genlearn train dcgan --data path/to/my/images --minutes 20   # your own folder, your budget
    python -m genlearn sample runs/dcgan --n 1000                          # -> runs/dcgan/samples.npz
    python -m genlearn translate runs/cyclegan --direction AtoB --input x.npz --out y.npz
    python -m genlearn translate runs/pix2pix-watermarks --input photo.png --out clean.png  # any size
    python -m genlearn stylize chelsea immunohistochemistry --method gatys --out cat.png  # style transfer
    python -m genlearn evaluate runs/dcgan/samples.npz --reference digits  # FD, KID, precision, recall, density, coverage
    python -m genlearn train ddpm --out runs/ddpm                          # denoising diffusion, ~5 minutes
    python -m genlearn sample runs/ddpm --n 1000 --sampler ddim --steps 50 # 50 network evaluations per image
    python -m genlearn train adain --out runs/adain                        # a decoder for any style, ~10 minutes
    python -m genlearn stylize chelsea gravel --method adain --run runs/adain --alpha 0.7 --out cat.png

Each model name maps to a recipe module (:data:`genlearn.recipes.MODELS`) with
``train(args) -> Path``; ``sample`` rebuilds the run's model with :func:`genlearn.load` and calls
its ``sample(n, labels=None, generator=None)``.

A mistake (an unknown model or dataset, a dataset that needs the network, a folder without
images, a missing or corrupt checkpoint, an unknown device, ``--n 0``, an unwritable ``--out``)
prints one sentence saying what was expected and exits with status 2, never a traceback.
Ctrl-C (SIGINT) and SIGTERM finish the step in progress, save the last completed one and exit
with 130 and 143; the same command resumes the run.
"""

from __future__ import annotations

import argparse
import inspect
import os
import sys
import warnings
from pathlib import Path
from typing import Sequence

import numpy as np
import torch

from genlearn.data.image_files import read_image, write_image
from genlearn.recipes import MODELS, UsageError, recipe
from genlearn.runtime import PROFILES, cap
from genlearn.train.precision import Precision
from genlearn.train.loop import UnevenBatchError

SAMPLE_CHUNK = 512  # images per forward pass when sampling
EXIT_USAGE = 2


def save_samples(path: Path, samples: dict[str, torch.Tensor]) -> Path:
    """Write samples as ``.npz`` (images float32 (N, C, H, W) in [-1, 1]; labels int64 if any)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(path, **{k: v.detach().cpu().numpy() for k, v in samples.items()})
    return path


def build_parser() -> argparse.ArgumentParser:
    from genlearn.data import DATASETS, OFFLINE_DATASETS

    p = argparse.ArgumentParser(prog="python -m genlearn", description="Train genlearn models and sample from runs.")
    sub = p.add_subparsers(dest="command", required=True, metavar="{train,sample,translate,stylize,evaluate}")

    datasets = ", ".join(f"{d}{'' if d in OFFLINE_DATASETS else ' (online)'}" for d in DATASETS)
    t = sub.add_parser(
        "train", help="train a model; writes RUN/checkpoint.pt and RUN/history.json",
        epilog=f"models: {', '.join(sorted(MODELS))}. datasets: {datasets}; or the path of a folder of your own "
               "images (any size, RGB or grayscale; subfolders are classes). In the cpu profile a run takes about "
               "5 minutes unless --steps or --minutes says otherwise; the same command resumes an interrupted run.",
    )  # fmt: skip
    t.add_argument("model", metavar="MODEL", help=f"one of: {', '.join(sorted(MODELS))}")
    t.add_argument("--data", default=None, help=f"dataset name ({', '.join(DATASETS)}) or a folder of images (default: the model's own, "
                   "digits for most; cyclegan: digits-typeset; pix2pix: watermarks; fast-style and adain: photos)")  # fmt: skip
    t.add_argument("--profile", choices=PROFILES, default=None, help="sizes and step counts (default: $GENLEARN_PROFILE, else by device)")
    t.add_argument("--steps", type=int, default=None, help="training steps (default: the profile's, cut to fit the budget)")
    t.add_argument("--minutes", type=float, default=None, help="time budget: stop (checkpointed) after this many minutes (default: 5 in the cpu profile)")
    t.add_argument("--seed", type=int, default=0)
    t.add_argument("--out", type=Path, default=None, help="run folder (default: runs/MODEL-DATA); an existing checkpoint there is resumed")
    t.add_argument("--device", default=None, help="cpu, cuda or mps (default: best available)")
    t.add_argument("--style", default=None, help="fast-style: the style image (a shipped name, a file or a URL; default "
                   "immunohistochemistry); adain: names or files, comma-separated, or a folder of paintings (default: shipped textures)")  # fmt: skip

    s = sub.add_parser(
        "sample", help="draw samples from a trained run; writes an .npz file and a preview .png",
        epilog="A run draws the kind of image it trained on and nothing else: a run trained on a folder of your own draws "
               "images like that folder's, at the run's training size. Score it with evaluate against images it never "
               "trained on (a held-out folder as --reference); against its own training images a model that copies "
               "them scores best.",
    )  # fmt: skip
    s.add_argument("run", metavar="RUN", type=Path, help="run folder (or its checkpoint.pt)")
    s.add_argument("--n", type=int, default=64, help="number of samples")
    s.add_argument("--seed", type=int, default=0)
    s.add_argument("--out", type=Path, default=None, help="output .npz (default: RUN/samples.npz)")
    s.add_argument("--truncation", type=float, default=None, help="stylegan: the truncation psi in [0, 1] (1 = none, the default)")
    s.add_argument("--sampler", choices=("ddpm", "ddim", "heun"), default=None,
                   help="ddpm runs: ddim (the default: 50 steps, eta 0), ddpm (Algorithm 2, all T steps) or heun (the "
                        "probability-flow ODE from Karras et al.'s sigma_max of 80, 18 steps = 35 network evaluations)")  # fmt: skip
    s.add_argument("--steps", type=int, default=None, help="ddpm runs: the sampler's steps (ddim: default 50; heun: default 18; ddpm takes all T)")
    s.add_argument("--eta", type=float, default=None, help="ddpm runs, ddim sampler: the noise per step in [0, 1] (0 = deterministic, the default; 1 = DDPM's posterior variance)")

    r = sub.add_parser(
        "translate", help="translate images with a trained image-to-image run (cyclegan, pix2pix)",
        epilog="cyclegan: images are centre-cropped and resized to the run's training size. pix2pix: images keep "
               "their own size; the fully convolutional U-Net gets them padded (mirrored at the edges) to the next "
               "multiple of 2^depth pixels, and the output is cropped back, so nothing is resized. A run knows only "
               "what it trained on: the watermarks recipe learned grey text marks drawn broadly (one mark or a tiled grid, any "
               "angle, opacity 0.2-0.9, light or dark, 13 fonts) on crops of 57 backgrounds (ten photos, their recolourings, "
               "three textures, drawn paintings, dead-leaves clutter), undoes the compositing x = (1 - a) y + a k where its gate opens "
               "(its predictions averaged over the image's eight quarter turns and mirror images: eight passes of the network) "
               "and passes through untouched every pixel its gate leaves below 0.5, and every image whose gate opens on fewer "
               "than 200 pixels (a mark that small is left in place); chapter 8 scores it on marks drawn by another "
               "procedure and on clean photos. It is expected to fail on marks unlike text (logos, banners), on coloured "
               "marks (it undoes them with a grey's colour), on marks too opaque to read the photo through (opacity above "
               "about 0.9), on marks larger than a 128-pixel view and on images far from its backgrounds (drawings, "
               "screenshots), where its gate may open on clean edges and finds less of a mark (in chapter 8 its own kind "
               "of mark on photos it never saw gains about 0.8 dB less than on its training photos); "
               "a cyclegan digits run expects centred digits like its two training domains.",
    )  # fmt: skip
    r.add_argument("run", metavar="RUN", type=Path, help="run folder (or its checkpoint.pt)")
    r.add_argument("--direction", choices=("AtoB", "BtoA"), default="AtoB", help="AtoB: input to output (pix2pix learns only this one)")
    r.add_argument("--input", type=Path, required=True, help="an .npz with 'images' (N, C, H, W) in [-1, 1], an image file, or a folder of images")
    r.add_argument("--out", type=Path, required=True, help="an .npz for an .npz input, an image file for an image, a folder for a folder")

    ev = sub.add_parser(
        "evaluate", help="score samples against a reference set; prints one JSON object (fd, kid, precision, recall, density, coverage)",
        epilog="SAMPLES: an .npz from sample/translate (images (N, C, H, W) in [-1, 1]), a folder of images, or digits-test / "
               "mnist-5k-test (real held-out images: the real-vs-real floor). REFERENCE: digits or mnist-5k (their train split), "
               "or a folder of images. The reference is resized to the samples' size. The book's protocol: --n 360 --draws 5 "
               "scores 5 disjoint draws of 360 and prints each metric as its mean and sd. inception-v3-fid reads the FID "
               "weights file pt_inception-2015-12-05-6726825d.pth from $GENLEARN_FID_WEIGHTS or torch's hub cache.",
    )  # fmt: skip
    ev.add_argument("samples", metavar="SAMPLES", type=Path)
    ev.add_argument("--reference", default="digits", help="digits, mnist-5k or a folder of images (default: digits)")
    ev.add_argument("--features", default="digits",
                    help="digits (genlearn's classifier), efficientnet-lite0 (ImageNet, offline) or inception-v3-fid (the standard FID, local weights)")  # fmt: skip
    ev.add_argument("--n", type=int, default=None, help="samples per draw (default: all samples, one draw)")
    ev.add_argument("--draws", type=int, default=1, help="disjoint draws of N samples; more than one reports each metric's mean and sd (default: 1)")
    ev.add_argument("--target", type=Path, default=None, help="translations: an .npz of the paired targets; adds psnr and ssim")
    ev.add_argument("--labels", type=Path, default=None, help="translated digits: an .npz with 'labels' (N,) of the sources; adds label_preservation")

    st = sub.add_parser(
        "stylize", help="paint CONTENT in the style of STYLE (neural style transfer); writes an image file",
        epilog="CONTENT and STYLE: an image file, an http(s) URL (online only), or a shipped image by name "
               "(photos: chelsea, coffee, astronaut, ...; textures: brick, grass, gravel; drawn paintings: strokes-100, ...). Grayscale images are "
               "converted to RGB. gatys optimizes the pixels (Gatys et al. 2016): about 10 s at 256 pixels on 2 CPU cores "
               "with EfficientNet-Lite0, the offline feature network; VGG-19 is used where its weights are at hand. "
               "fast and adain run a trained network (python -m genlearn train fast-style / adain) in well under a second. "
               "A fast run knows only its one style. An adain run of the shipped recipe learned the 13 offline images of "
               "list_styles('train') at four scales, half of them recoloured; chapter 10 scores it on paintings drawn by "
               "another process (the unseen names strokes-100, dots-101, ...), and it is expected to fail on styles whose "
               "character is their large-scale layout (one big shape, a composition), which its encoder, stopping at a "
               "quarter of the image side, cannot see.",
    )  # fmt: skip
    st.add_argument("content", metavar="CONTENT")
    st.add_argument("style", metavar="STYLE", nargs="?", default=None, help="the style image (gatys, adain; a fast run has its style built in)")
    st.add_argument("--method", choices=("gatys", "fast", "adain"), default="gatys",
                    help="gatys: optimization (Gatys et al. 2016); fast: a network trained for one style (train fast-style); "
                         "adain: a decoder for any style (train adain); fast and adain need --run")  # fmt: skip
    st.add_argument("--run", type=Path, default=None, help="fast, adain: the run folder of python -m genlearn train fast-style / adain")
    st.add_argument("--alpha", type=float, default=1.0, help="adain: content-style trade-off, 0 (content) to 1 (full style; default)")
    st.add_argument("--keep-colours", action="store_true", help="gatys, adain: give the style image the content's colours first")
    st.add_argument("--out", type=Path, required=True, help="the stylized image (.png or .jpg)")
    st.add_argument("--size", type=int, default=256, help="shorter side of the output in pixels (default 256; at least 32)")
    st.add_argument("--steps", type=int, default=100, help="optimizer steps (default 100)")
    st.add_argument("--style-weight", type=float, default=None, help="beta, relative to a content weight of 1 (default 1e6)")
    st.add_argument("--tv-weight", type=float, default=0.0, help="gatys: total-variation weight against pixel grain (default 0; chapter 9: 1e3)")
    st.add_argument("--network", choices=("auto", "vgg19", "efficientnet-lite0"), default="auto",
                    help="feature network (default auto: VGG-19 if its weights are cached or given, else EfficientNet-Lite0)")  # fmt: skip
    st.add_argument("--weights", type=Path, default=None, help="weights file for the feature network (e.g. a downloaded vgg19-dcbb9e9d.pth)")
    st.add_argument("--device", default=None, help="cpu, cuda or mps (default: best available)")
    return p


def draw_samples(model: torch.nn.Module, n: int, seed: int, **options) -> dict[str, torch.Tensor]:
    """``n`` samples of a loaded model from one seeded stream (chunks continue it, so different
    seeds give disjoint sets); conditional models get labels ``0, 1, ..., K-1, 0, ...``; ``options``
    go to ``model.sample`` (StyleGAN's ``truncation``)."""
    g = torch.Generator().manual_seed(seed)
    num_classes = int(getattr(getattr(model, "config", None), "num_classes", 0) or 0)
    labels = torch.arange(n) % num_classes if num_classes else None
    chunks = []
    for i in range(0, n, SAMPLE_CHUNK):
        k = min(SAMPLE_CHUNK, n - i)
        chunks.append(model.sample(k, labels=None if labels is None else labels[i : i + k], generator=g, **options))
    out = {"images": torch.cat(chunks).float().clamp(-1, 1)}
    return out | ({"labels": labels} if labels is not None else {})


def check_writable(folder: Path, what: str) -> None:
    """Create ``folder`` and try a file in it, so a bad --out fails before any training."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        probe = folder / f".genlearn-write-test-{os.getpid()}"  # per process: torchrun's ranks check the same folder
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as e:
        raise UsageError(f"cannot write {what} to {folder} ({e.strerror or type(e).__name__}); choose another --out") from None


def check_device(name: str | None) -> None:
    from genlearn.runtime import get_device

    try:
        get_device(name)
    except (ValueError, RuntimeError) as e:
        raise UsageError(str(e)) from None


def precision_from_environment(environ) -> Precision:
    """The run's precision from ``$GENLEARN_AMP`` and ``$GENLEARN_CHANNELS_LAST`` (1, the default, or 0: switch CUDA's
    mixed precision or channels-last off, e.g. to compare step times or to rule AMP out when a run turns NaN); read
    once, here at the front door, and handed to the trainers' set-up."""
    switches = {}
    for name in ("GENLEARN_AMP", "GENLEARN_CHANNELS_LAST"):
        value = environ.get(name, "").strip()
        if value not in ("", "0", "1"):
            raise UsageError(f"{name} must be 1 (on, the default) or 0 (off), got {value!r}")
        switches[name] = value != "0"
    amp, channels_last = switches["GENLEARN_AMP"], switches["GENLEARN_CHANNELS_LAST"]
    return Precision(amp, channels_last, "" if amp and channels_last else "switched off by GENLEARN_AMP / GENLEARN_CHANNELS_LAST")


def train(args) -> int:
    from genlearn.data import check_dataset
    from genlearn.recipes import TrainRequest
    from genlearn.runtime import get_profile

    module = recipe(args.model)
    data = args.data if args.data is not None else module.DEFAULT_DATA
    try:
        getattr(module, "check_data", check_dataset)(data)
        profile = args.profile or get_profile()  # --profile, else $GENLEARN_PROFILE, else by device: read here, once
    except ValueError as e:
        raise UsageError(str(e)) from None
    check_device(args.device)
    name = Path(data).name if Path(data).is_dir() else data
    out = args.out or Path("runs") / f"{args.model}-{name}"
    request = TrainRequest(args.model, data, steps=args.steps, minutes=args.minutes, seed=args.seed, out=out, device=args.device,
                           style=args.style, profile=profile, precision=precision_from_environment(os.environ))  # fmt: skip
    check_writable(out, "the run")
    info = _distributed(request, module)
    try:
        run = module.train(request.but(distributed=info if info.active else None))
    except UnevenBatchError as e:  # every rank meets it; rank 0 says it
        if not info.is_main:
            raise SystemExit(2) from None
        raise UsageError(f"{args.model} trains on batches of {e.batch_size} here, which {e.world_size} processes cannot share evenly; "
                         f"start torchrun with a --nproc_per_node that divides {e.batch_size}, or train {args.model} in one process") from None  # fmt: skip
    finally:
        if info.active:
            import torch.distributed as dist

            dist.destroy_process_group()
    if info.is_main:
        print(f"run saved in {run}")
    return 0


def _distributed(request, module):
    """Under ``torchrun``: join the process group and return this process's :class:`Distributed` (one GPU per process)."""
    from genlearn.recipes import MODELS, recipe
    from genlearn.runtime import get_device
    from genlearn.train.distributed import from_environment, init_process_group

    info = from_environment()
    if not info.active:
        return info
    if not getattr(module, "DISTRIBUTED", True):
        able = ", ".join(m for m in MODELS if getattr(recipe(m), "DISTRIBUTED", True))
        raise UsageError(f"distributed training (torchrun) is implemented for {able}; train {request.model} in one process")
    device = get_device(request.device)
    if device.type == "cuda":
        torch.cuda.set_device(info.local_rank)  # "cuda" now means this process's GPU
    init_process_group(info, device)
    return info


def diffusion_options(args, model: torch.nn.Module, name: str) -> dict:
    """``--sampler``, ``--steps`` and ``--eta`` checked against the run's model, as ``model.sample``'s keywords."""
    given = {k: v for k, v in (("--sampler", args.sampler), ("--steps", args.steps), ("--eta", args.eta)) if v is not None}
    if "sampler" not in inspect.signature(model.sample).parameters:
        if given:
            raise UsageError(f"{', '.join(given)} are for ddpm runs (diffusion samplers); {args.run} holds a {name!r} run")
        return {}
    sampler = args.sampler or "ddim"
    if args.steps is not None and args.steps < 1:
        raise UsageError(f"--steps must be >= 1, got {args.steps}")
    timesteps = model.config.timesteps
    if args.steps is not None and sampler == "ddim" and args.steps > timesteps:
        raise UsageError(f"--steps for ddim must be at most the run's T = {timesteps}, got {args.steps}")
    if args.steps is not None and sampler == "ddpm" and args.steps != timesteps:
        raise UsageError(f"the ddpm sampler takes all T = {timesteps} steps of the run; for {args.steps} steps use --sampler ddim")
    if args.eta is not None and sampler != "ddim":
        raise UsageError(f"--eta is for the ddim sampler (its noise per step); {sampler} sets its own")
    if args.eta is not None and not 0 <= args.eta <= 1:
        raise UsageError(f"--eta must be between 0 (deterministic) and 1 (DDPM's posterior variance), got {args.eta}")
    options: dict = {"sampler": sampler, "progress": True}
    if sampler != "ddpm" and args.steps is not None:
        options["steps"] = args.steps
    elif sampler != "ddpm":  # the sampler's default, cut by $GENLEARN_MAX_STEPS in a dry run (a gpu-size U-Net on a CPU)
        from genlearn.models.ddpm import DEFAULT_STEPS

        options["steps"] = cap(DEFAULT_STEPS[sampler], at_least=2)
    if args.eta is not None:
        options["eta"] = args.eta
    return options


def sample(args) -> int:
    import genlearn
    from genlearn.checkpoint import checkpoint_path, load_checkpoint

    if args.n < 1:
        raise UsageError(f"--n must be >= 1, got {args.n}")
    ckpt = checkpoint_path(args.run)
    if not ckpt.is_file():
        raise UsageError(f"no checkpoint at {ckpt}; train first with: python -m genlearn train MODEL --out {args.run}")
    out = args.out or ckpt.parent / "samples.npz"
    if out.suffix != ".npz":
        raise UsageError(f"--out must name an .npz file (numpy adds .npz to other names), got {out}")
    name = load_checkpoint(ckpt).get("model")
    model = genlearn.load(ckpt)
    if not hasattr(model, "sample"):
        from genlearn.models.registry import BUILDABLE

        generative = sorted(m for m, entry in BUILDABLE.items() if entry.kind == "generative")
        raise UsageError(f"{name!r} is not a generative model; sample from one of: {', '.join(generative)}")
    options = {}
    if args.truncation is not None:
        if "truncation" not in inspect.signature(model.sample).parameters:
            raise UsageError(f"--truncation is for stylegan runs (it pulls w towards its average); {args.run} holds a {name!r} run")
        if not 0 <= args.truncation <= 1:
            raise UsageError(f"--truncation must be between 0 (the average w) and 1 (no truncation), got {args.truncation}")
        options["truncation"] = args.truncation
    options |= diffusion_options(args, model, name)
    check_writable(out.parent, "samples")
    samples = draw_samples(model, args.n, args.seed, **options)
    save_samples(out, samples)
    from genlearn.viz import show_grid

    fig = show_grid(samples["images"][:64], title=f"{name}: {args.n} samples (first 64 shown)")
    fig.savefig(out.with_suffix(".png"), dpi=100, bbox_inches="tight")
    print(f"wrote {args.n} samples to {out} (preview {out.with_suffix('.png')})")
    return 0


def translate(args) -> int:
    import genlearn
    from genlearn.checkpoint import checkpoint_path, load_checkpoint
    from genlearn.data.folders import IMAGE_SUFFIXES

    ckpt = checkpoint_path(args.run)
    if not ckpt.is_file():
        raise UsageError(f"no checkpoint at {ckpt}; train first with: python -m genlearn train pix2pix --out {args.run} (or cyclegan)")
    name = load_checkpoint(ckpt).get("model")
    model = genlearn.load(ckpt)
    if not hasattr(model, "translate"):
        raise UsageError(f"{name!r} is not an image-to-image model; translate with a cyclegan or pix2pix run")
    if args.direction not in model.directions:  # the model says what it translates (pix2pix: input to output only)
        learns = "one direction, input to output" if len(model.directions) == 1 else " and ".join(model.directions)
        raise UsageError(f"{name} learns {learns}, not {args.direction}: use --direction {model.directions[0]}")
    source, size = model.source_channels(args.direction), model.fixed_size  # size None: any size (translated whole)
    if not args.input.exists():
        raise UsageError(f"no input at {args.input}; give an .npz with 'images', an image file or a folder of images")
    if args.input.is_dir():
        files = sorted(f for f in args.input.iterdir() if f.suffix.lower() in IMAGE_SUFFIXES)
        if not files:
            raise UsageError(f"{args.input} has no {'/'.join(IMAGE_SUFFIXES)} images")
        check_writable(args.out, "the translations")
        done, skipped = 0, []
        for f in files:
            try:
                x = read_image(f, source, size)[None]  # (1, C, S, S)
            except ValueError:
                skipped.append(f.name)
                continue
            write_image(args.out / f"{f.stem}.png", model.translate(x, args.direction)[0])
            done += 1
        if skipped:
            warnings.warn(f"skipped {len(skipped)} files that are not readable images: {', '.join(skipped[:5])}")
        if not done:
            raise UsageError(f"{args.input} has no readable images")
        print(f"translated {done} images {args.direction} into {args.out}")
        return 0
    if args.input.suffix == ".npz":
        x = _npz_array(args.input, "images").float()
        if x.dim() != 4 or x.shape[1] != source:
            raise UsageError(f"{args.input}'s images have shape {tuple(x.shape)}; {args.direction} expects (N, {source}, H, W) in [-1, 1]")
        if size is not None and x.shape[-2:] != (size, size):
            from genlearn.data._common import resize

            x = resize(x, size)
        if args.out.suffix != ".npz":
            raise UsageError(f"an .npz input is written as an .npz; --out must end in .npz, got {args.out}")
        check_writable(args.out.parent, "the translations")
        y = torch.cat([model.translate(x[i : i + SAMPLE_CHUNK], args.direction) for i in range(0, len(x), SAMPLE_CHUNK)])
        save_samples(args.out, {"images": y.clamp(-1, 1)})
        print(f"translated {len(x)} images {args.direction} into {args.out}")
        return 0
    check_writable(args.out.parent, "the translation")
    try:
        x = read_image(args.input, source, size)[None]  # (1, C, S, S)
    except ValueError as e:
        raise UsageError(str(e)) from None
    write_image(args.out, model.translate(x, args.direction)[0])
    print(f"translated {args.input} {args.direction} into {args.out}")
    return 0


def evaluate(args) -> int:
    import json

    from genlearn.data import load_image_folder
    from genlearn.data.registry import HELD_OUT, REFERENCES, get_held_out, get_reference
    from genlearn.metrics.evaluate import FEATURES, evaluate as score

    if args.features not in FEATURES:
        raise UsageError(f"unknown feature network {args.features!r}; choose one of {', '.join(FEATURES)}")
    if str(args.samples) in HELD_OUT:
        x = get_held_out(str(args.samples))
    elif args.samples.is_dir():
        x = load_image_folder(args.samples, size=_folder_size(args.samples))[0]
    elif args.samples.suffix == ".npz" and args.samples.is_file():
        x = _npz_array(args.samples, "images").float()
    else:
        raise UsageError(f"SAMPLES must be an .npz written by sample/translate, a folder of images, digits-test or mnist-5k-test, got {args.samples}")
    if args.draws < 1:
        raise UsageError(f"--draws must be >= 1, got {args.draws}")
    if args.n is not None and not 1 <= args.n * args.draws <= len(x):
        raise UsageError(f"--n {args.n} x --draws {args.draws} needs {args.n * args.draws} samples; there are {len(x)}")
    if args.reference not in REFERENCES and not Path(args.reference).is_dir():
        raise UsageError(f"--reference must be digits, mnist-5k or a folder of images, got {args.reference!r}")
    ref = get_reference(args.reference, size=x.shape[-1])  # the reference at the samples' size
    from genlearn.metrics.evaluate import label_scores, paired_scores

    try:
        result = score(x, ref, features=args.features, n=args.n, draws=args.draws)
        used = x[: result["n"] * args.draws]
        if args.target is not None:
            result |= paired_scores(used, _npz_array(args.target, "images")[: len(used)].float())
        if args.labels is not None:
            result |= label_scores(used, _npz_array(args.labels, "labels")[: len(used)])
    except (ValueError, FileNotFoundError) as e:
        raise UsageError(str(e)) from None
    print(json.dumps(result | {"reference": args.reference}))
    return 0


def _npz_array(path: Path, key: str) -> torch.Tensor:
    """The array ``key`` of an .npz file, or one sentence saying what is missing (translate, evaluate)."""
    if path.suffix != ".npz" or not path.is_file():
        raise UsageError(f"{path} is not an .npz file (expected one with an {key!r} array)")
    with np.load(path) as data:
        if key not in data:
            raise UsageError(f"{path} has no {key!r} array (it holds {', '.join(data.files) or 'nothing'})")
        return torch.from_numpy(data[key])


def _folder_size(folder: Path) -> int:
    """The side of the first readable image in a folder (samples written as files keep their size)."""
    from PIL import Image

    for path in sorted(folder.rglob("*")):
        try:
            with Image.open(path) as im:
                return min(im.size)
        except (OSError, ValueError):
            continue
    raise UsageError(f"no readable image in {folder}")


def stylize(args) -> int:
    from genlearn.models.features import load_feature_network
    from genlearn.runtime import get_device
    from genlearn.train.gatys import stylize_gatys

    if args.size < 32:
        raise UsageError(f"--size must be at least 32 pixels (the feature networks halve an image 5 times), got {args.size}")
    if args.steps < 1:
        raise UsageError(f"--steps must be >= 1, got {args.steps}")
    if args.out.suffix.lower() not in (".png", ".jpg", ".jpeg"):
        raise UsageError(f"--out must name a .png or .jpg file, got {args.out}")
    if not 0 <= args.alpha <= 1:
        raise UsageError(f"--alpha must be between 0 (the content) and 1 (full style), got {args.alpha}")
    check_device(args.device)
    device = get_device(args.device)
    if args.method == "fast":
        return _stylize_fast(args, device)
    if args.style is None:
        raise UsageError(f"{args.method} needs a STYLE image after CONTENT (a file, a URL or a shipped name such as brick)")
    try:
        content, style = _content_and_style(args)
        if args.method == "adain":
            return _stylize_adain(args, content, style, device)
        net = load_feature_network(args.network, args.weights)
    except ValueError as e:
        raise UsageError(str(e)) from None
    check_writable(args.out.parent, "the stylized image")
    weight = {} if args.style_weight is None else {"style_weight": args.style_weight}  # default: stylize_gatys's
    if args.tv_weight < 0:
        raise UsageError(f"--tv-weight must be >= 0, got {args.tv_weight}")
    image, history = stylize_gatys(content.to(device), style.to(device), net.to(device), steps=args.steps, tv_weight=args.tv_weight, **weight)
    write_image(args.out, image[0].cpu())
    print(f"wrote {args.out}: style loss {history['style'][0]:.3g} -> {history['style'][-1]:.3g} in {len(history.steps)} steps")
    return 0


def _content_and_style(args) -> tuple[torch.Tensor, torch.Tensor]:
    """CONTENT and STYLE as (1, 3, H, W), the style recoloured to the content's colours with --keep-colours."""
    from genlearn.data import load_image, match_colour

    content, style = load_image(args.content, args.size), load_image(args.style, args.size)  # (3, H, W)
    if args.keep_colours:
        style = match_colour(style, content)
    return content[None], style[None]


def _stylize_adain(args, content: torch.Tensor, style: torch.Tensor, device) -> int:
    import genlearn

    payload = _checked_run(args, "adain")
    check_writable(args.out.parent, "the stylized image")
    # --weights: the encoder's weights file (a VGG-19 run on a machine without torchvision's cache)
    model = genlearn.load(payload["path"], device=device, encoder_weights=args.weights)
    write_image(args.out, model.stylize(content.to(device), style.to(device), alpha=args.alpha)[0].cpu())
    print(f"wrote {args.out}: {args.content} in the style of {args.style} (AdaIN, alpha {args.alpha:g})")
    return 0


def _checked_run(args, model: str) -> dict:
    """The checkpoint of ``--run`` if it is a run of ``model`` (its path under "path"); else one sentence."""
    from genlearn.checkpoint import checkpoint_path, load_checkpoint

    train = "fast-style --style STYLE" if model == "fast-style" else model
    if args.run is None:
        raise UsageError(f"--method {args.method} needs --run RUN, a run of: python -m genlearn train {train} --out RUN")
    ckpt = checkpoint_path(args.run)
    if not ckpt.is_file():
        raise UsageError(f"no checkpoint at {ckpt}; train first with: python -m genlearn train {model} --out {args.run}")
    payload = load_checkpoint(ckpt)
    if payload.get("model") != model:
        article = "an" if model[0] in "aeiou" else "a"
        raise UsageError(f"{args.run} holds a {payload.get('model')!r} run; --method {args.method} needs {article} {model} run")
    return {**payload, "path": ckpt}


def _stylize_fast(args, device) -> int:
    import genlearn
    from genlearn.data import load_image

    payload = _checked_run(args, "fast-style")
    ckpt = payload["path"]
    if args.style is not None:
        warnings.warn(f"a fast-style run paints its own style ({payload['train_config'].get('style')}); STYLE {args.style} is not used")
    try:
        content = load_image(args.content, args.size)[None]  # (1, 3, H, W)
    except ValueError as e:
        raise UsageError(str(e)) from None
    check_writable(args.out.parent, "the stylized image")
    net = genlearn.load(ckpt, device=device)
    write_image(args.out, net.stylize(content.to(device))[0].cpu())
    print(f"wrote {args.out} in the style of {payload['train_config'].get('style')}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status (argparse's own usage errors exit 2 as well)."""
    from genlearn.data import DatasetUnavailableError, ImageFolderError
    from genlearn.checkpoint import CheckpointError
    from genlearn.train.loop import Interrupted

    args = build_parser().parse_args(argv)
    warnings.showwarning = lambda message, *rest, **kw: print(f"genlearn: note: {message}", file=sys.stderr)
    try:
        return {"train": train, "sample": sample, "translate": translate, "stylize": stylize, "evaluate": evaluate}[args.command](args)
    except (UsageError, DatasetUnavailableError, ImageFolderError, CheckpointError, FileNotFoundError, ModuleNotFoundError) as e:
        message = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        print(f"genlearn: {message}", file=sys.stderr)
        return EXIT_USAGE
    except Interrupted as e:  # the loop has saved the last completed step and said so
        return e.exit_code
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
