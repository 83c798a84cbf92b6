"""Every online dataset and weights URL the book names, and a check that each still answers.

    python -m genlearn.urls            # list them
    python -m genlearn.urls --check    # ask each (HEAD, else a 1-byte GET); exit 1 if any fails

Dead dataset links are the commonest complaint about GAN tutorials (PyTorch-GAN #192; CelebA's Google Drive quota,
torchvision #5705), so a scheduled workflow runs the check every week. It reports and never blocks a push.
Nothing here touches the network at import.
"""

from __future__ import annotations

import argparse
import sys
import urllib.error
import urllib.request


def online_sources() -> list[tuple[str, str]]:
    """``[(what, url), ...]``: the hosts of the online datasets and the pretrained weights genlearn can use.

    Chapter 0.
    """
    from torchvision import datasets
    from torchvision.models import VGG19_Weights

    from genlearn.data.archives import CYCLEGAN_URL, PIX2PIX_URL
    from genlearn.models.fid_inception import WEIGHTS_URL as FID_URL

    celeba_id = datasets.CelebA.file_list[0][0]  # img_align_celeba.zip on Google Drive (its quota fails often)
    sources = [
        ("MNIST (torchvision)", datasets.MNIST.mirrors[0] + datasets.MNIST.resources[0][0]),
        ("Fashion-MNIST (torchvision)", datasets.FashionMNIST.mirrors[0] + datasets.FashionMNIST.resources[0][0]),
        ("CIFAR-10 (torchvision)", datasets.CIFAR10.url),
        ("CelebA (torchvision, Google Drive)", f"https://drive.google.com/uc?export=download&id={celeba_id}"),
        ("pix2pix facades", PIX2PIX_URL.format(name="facades")),
        ("CycleGAN horse2zebra", CYCLEGAN_URL.format(name="horse2zebra")),
    ]
    sources += [("VGG-19 ImageNet weights (torchvision)", VGG19_Weights.IMAGENET1K_V1.url), ("FID Inception-v3 weights (pytorch-fid)", FID_URL)]
    return sources


def answers(url: str, timeout: float = 10.0) -> tuple[bool, str]:
    """Whether ``url`` answers with a status below 400: ``(ok, "200")`` or ``(False, "the reason")``.

    Chapter 0.
    """
    for method, headers in (("HEAD", {}), ("GET", {"Range": "bytes=0-0"})):
        request = urllib.request.Request(url, method=method, headers={"User-Agent": "genlearn-link-check", **headers})
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                return True, str(response.status)
        except urllib.error.HTTPError as e:
            reason = f"HTTP {e.code}"
            if e.code not in (403, 405, 501):  # some hosts refuse HEAD only: try a GET
                return False, reason
        except (urllib.error.URLError, OSError, ValueError) as e:
            return False, f"{type(e).__name__}: {getattr(e, 'reason', e)}"
    return False, reason


def main(argv: list[str] | None = None) -> int:
    """The command line: list the URLs, or with ``--check`` ask each; returns the exit status.

    Chapter 0.
    """
    p = argparse.ArgumentParser(prog="python -m genlearn.urls", description="the online datasets and weights the book names")
    p.add_argument("--check", action="store_true", help="ask each URL; exit 1 if any does not answer")
    p.add_argument("--timeout", type=float, default=10.0, help="seconds per URL (default: 10)")
    args = p.parse_args(argv)
    failed = 0
    for what, url in online_sources():
        if not args.check:
            print(f"{what:<40} {url}")
            continue
        ok, status = answers(url, args.timeout)
        failed += not ok
        print(f"{'ok  ' if ok else 'FAIL'} {what:<40} {url}  ({status})")
    if args.check:
        print(f"{failed} of {len(online_sources())} URLs did not answer" if failed else "every URL answered")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
