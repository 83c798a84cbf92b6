"""The networks of pix2pix (Isola et al. 2017): a U-Net generator and a conditional PatchGAN.

* :class:`UnetGenerator` -- an encoder-decoder whose ``i``-th decoder layer also receives the
  ``i``-th-from-last encoder layer's output (skip connections), so low-level structure such as edges
  can go straight from input to output (Sec. 3.2.1, Appendix 6.1.1). ``depth`` stride-2 4x4
  convolutions halve the side down to 1 pixel at 256x256 (depth 8); dropout 0.5 in the first
  three decoder layers is the noise source, kept on at test time (Sec. 3.1). ``skips=False`` cuts the
  skips: the paper's encoder-decoder baseline (Sec. 4.3, Appendix 6.1.1).
* :class:`ConditionalPatchDiscriminator` -- the PatchGAN of chapter 7 fed the input and the output
  stacked along channels, so it judges whether ``y`` is a plausible translation *of* ``x``. Like
  chapter 7's, it uses instance norm (with convolution biases); the paper's discriminator
  (Appendix 6.1.2) and the authors' pix2pix code use batch norm (without those biases).
  ``n_layers=0`` makes it the 1x1 PixelGAN and ``conditional=False`` hides ``x`` from it, the
  unconditional GAN of the paper's Sec. 4.2 (Table 1).

:meth:`Pix2PixConfig.reference` is the paper's 256x256 U-Net with 64 base filters (54,413,955
parameters for RGB to RGB; the authors' code prints 54.414 M) and the 70x70 PatchGAN, which sees
6 channels (input and output): 2,767,809 parameters with genlearn's instance norm (the authors'
batch-norm version has 2,768,705).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from genlearn.checks import check_images
from genlearn.models._config import SavedConfig, check_at_least
from genlearn.models.cyclegan import PatchDiscriminator

MIN_MARK_PIXELS_128 = 200  # the remover's smallest mark on a 128x128 crop: an image whose gate opens on fewer pixels passes through


@dataclass(frozen=True)
class Pix2PixConfig(SavedConfig):
    """Sizes of a pix2pix generator and discriminator.

    Args:
        in_channels, out_channels: channels of the input (A) and output (B) images.
        image_size: side of the square training crops (a multiple of ``2 ** depth``).
        g_width: ``ngf``, filters of G's first layer; depth: G's stride-2 layers (8 at 256x256).
        dropout: dropout rate in the first three decoder layers (0.5; 0 = a deterministic G).
        d_width: ``ndf``; d_layers: D's stride-2 layers (3: 70x70 patches; 0: the 1x1 PixelGAN, 1: 16x16,
            2: 34x34; 4 on 64x64 crops: every score sees the whole crop, an ImageGAN).
        residual: G predicts a correction added to its input, ``clamp(x + U(x), -1, 1)``, instead of
            the output itself (False: the paper's). Where most of the output is the input (restoration,
            colourization), this spares a small U-Net rebuilding the photo (chapter 8 measures both);
            needs ``in_channels == out_channels``, or a 1-channel input, added to every output channel.
        skips: the U-Net's skip connections (True: the paper's). False cuts them all: the encoder-decoder
            that Isola et al. compare with in Sec. 4.3 (Table 2); every bit of the output then passes through
            the bottleneck (plus the input itself when ``residual``).
        conditional: D sees the pair ``(x, y)`` (True: the paper's cGAN). False: D sees ``y`` alone, the
            unconditional "GAN" rows of Table 1 (Sec. 4.2), which judge realism but not fit to the input.
        blend: G ends in a full-resolution head that sees the input pixels and predicts, for each pixel, a colour
            ``c`` and a weight ``m`` in (0, 1), and returns ``(1 - m) x + m c`` (False: the paper's last layer).
            It inverts how a semi-transparent mark is laid over a photo, ``x = (1 - a) y + a mark``: where
            ``m`` is 0 the input passes through untouched, so a remover can leave clean pixels exactly alone.
            Needs ``in_channels == out_channels`` and ``residual=False``. The ``watermarks`` recipe uses it.
        gate_bias: the blend head's initial logit of ``m`` (-6: ``m = 0.0025``, it starts as the identity).
        gate_threshold: in eval mode, a weight ``m`` below it counts as 0 (the pixel is passed through
            exactly); 0 blends everywhere. Training always blends (the threshold has no gradient).
        unblend: with ``blend``, the head undoes the compositing instead of repainting: it predicts a gain ``s``
            (one channel), an offset ``b`` and a gate ``g`` (where a mark is) and returns ``x + g (s x + b)``.
            Where a mark of colour ``k`` and opacity ``a`` was laid over the photo, ``x = (1 - a) y + a k``, the
            values ``s = a / (1 - a)`` and ``b = -s k`` give ``y`` exactly: the photo under a semi-transparent
            mark is recovered from its own pixels, not painted in, and ``s = b = 0`` is the identity (their
            biases start at 0). In eval mode ``g`` is 0 below ``gate_threshold`` and 1 above it. (A head that predicted
            ``a`` and ``k`` and divided by ``1 - a`` learned ``a = 0`` in a trial: while ``k`` is wrong every
            ``a > 0`` costs, and ``k`` learns only through ``a``.)
        min_mark_pixels: with ``unblend`` and a ``gate_threshold``, in eval mode an image whose gate opens on fewer
            pixels than this is returned untouched, bit for bit (0: no such rule). On clean photos a remover's gate
            opens on a few scattered edges that look like strokes; a mark covers more pixels than they do, so a
            minimum size shuts those false alarms and leaves marks smaller than it in place. Counted on the image as
            the U-Net sees it (``translate`` pads it to a multiple of ``2 ** depth``).
        gate_views: with ``unblend``, in eval mode the head's gain, offset and gate probability are averaged over
            this many views of the input before the gate is thresholded (1: the input alone; 2: and its mirror image;
            4: and both turned by 180 degrees; 8: every quarter turn of both, the square's eight symmetries), each
            view's predictions turned back first. A mark is a mark in any view; a clean edge that looks like a
            stroke in one view often does not in another, so the averaged gate opens less on clean photos and a lower
            threshold finds more of a mark (test-time augmentation: Krizhevsky et al. 2012, Sec. 4.1, average a
            classifier's predictions over crops and mirror images). It costs that many passes of the U-Net.

    Checkpoints saved before ``skips`` and ``conditional`` existed load with both True, which is what they trained.

    Chapter 8.
    """

    in_channels: int = 3
    out_channels: int = 3
    image_size: int = 256
    g_width: int = 64
    depth: int = 8
    dropout: float = 0.5
    d_width: int = 64
    d_layers: int = 3
    residual: bool = False
    skips: bool = True
    conditional: bool = True
    blend: bool = False
    gate_bias: float = -6.0
    gate_threshold: float = 0.0
    unblend: bool = False
    min_mark_pixels: int = 0
    gate_views: int = 1

    def __post_init__(self) -> None:
        check_at_least(self, 1, "in_channels", "out_channels", "g_width", "d_width")
        check_at_least(self, 0, "d_layers")
        check_at_least(self, 2, "depth")
        if not 0 <= self.dropout < 1:
            raise ValueError(f"dropout must be in [0, 1), got {self.dropout}")
        if self.residual and self.in_channels not in (1, self.out_channels):
            raise ValueError(f"a residual U-Net adds its input to its output: in_channels must be 1 or out_channels, got {self.in_channels} and {self.out_channels}")
        if self.blend and (self.residual or self.in_channels != self.out_channels):
            raise ValueError(f"blend mixes the input with a predicted colour: it needs in_channels == out_channels and residual=False, got {self.in_channels}, {self.out_channels} and residual={self.residual}")
        if self.unblend and not self.blend:
            raise ValueError("unblend is a kind of blend head: it needs blend=True")
        if self.min_mark_pixels and not (self.unblend and self.gate_threshold > 0):
            raise ValueError(f"min_mark_pixels counts the pixels an unblend head's thresholded gate opens on: it needs unblend=True and gate_threshold > 0, got {self.unblend} and {self.gate_threshold}")
        if self.min_mark_pixels < 0:
            raise ValueError(f"min_mark_pixels must be >= 0, got {self.min_mark_pixels}")
        if not 0 <= self.gate_threshold < 1:
            raise ValueError(f"gate_threshold is a weight m in [0, 1) below which a pixel passes through, got {self.gate_threshold}")
        _check_gate_views(self.gate_views, self.unblend)
        if self.image_size % 2**self.depth:
            raise ValueError(f"image_size must be a multiple of 2 ** depth = {2 ** self.depth} (G halves it {self.depth} times), got {self.image_size}")

    @classmethod
    def reference(cls) -> "Pix2PixConfig":
        """Isola et al. 2017 at 256x256: U-Net of depth 8 with 64 base filters, 70x70 PatchGAN."""
        return cls()

    @classmethod
    def remover(cls, image_size: int = 128, width: int = 16, depth: int = 6, d_layers: int = 3) -> "Pix2PixConfig":
        """genlearn's watermark remover (chapter 8): the paper's U-Net and PatchGAN with the unblend head, its gate
        opening at ``g = sigmoid(-2) = 0.12``; at test time its predictions are averaged over the square's eight
        symmetries of the input, the averaged gate is shut below ``g = 0.5``, and an image whose gate opens on fewer
        than 200 pixels of a 128x128 crop (1.2%; the same share at other sizes) is passed through whole.

        Against the blend head ``(1 - m) x + m c`` (one seed each, 7 minutes on one thread, 100 crops of 128x128, one
        view): +0.81 against +0.39 dB on marks drawn by another procedure at the threshold 0.7, and 40.6 against 37.5
        dB on clean photos; at 0.5, +0.95 against +0.70 dB, 39.0 against 35.8 dB. The threshold 0.5 with eight views
        was read off a validation draw (held-out photos, crops and marks of seed 3; three trial runs): the lowest
        threshold, in steps of 0.1, at which unmarked crops kept at least 45 dB in every run. Chapter 8 measures the
        views and the 200-pixel rule on and off over three seeds."""
        min_mark_pixels = max(1, round(MIN_MARK_PIXELS_128 * (image_size / 128) ** 2))  # marks are drawn to the crop's scale
        return cls(image_size=image_size, g_width=width, depth=depth, d_width=width, d_layers=d_layers, blend=True,
                   gate_bias=-2.0, gate_threshold=0.5, unblend=True, min_mark_pixels=min_mark_pixels, gate_views=8)  # fmt: skip

    @classmethod
    def tiny(cls, image_size: int = 16, channels: int = 3) -> "Pix2PixConfig":
        return cls(in_channels=channels, out_channels=channels, image_size=image_size, g_width=4, depth=3, d_width=4, d_layers=1)


GATE_VIEWS = {  # (quarter turns, mirrored first) of each view, the input itself first
    1: ((0, False),),
    2: ((0, False), (0, True)),
    4: ((0, False), (0, True), (2, False), (2, True)),
    8: tuple((k, flip) for flip in (False, True) for k in range(4)),
}


def _check_gate_views(views: int, unblend: bool) -> None:
    if isinstance(views, bool) or not isinstance(views, int) or views not in GATE_VIEWS:
        raise ValueError(f"gate_views is the number of the square's symmetries the gate is averaged over: 1, 2, 4 or 8, got {views!r}")
    if views > 1 and not unblend:
        raise ValueError(f"gate_views averages the unblend head's predictions: it needs unblend=True, got gate_views={views}")


def _view(x: torch.Tensor, turns: int, mirrored: bool) -> torch.Tensor:
    """x (N, C, H, W) mirrored left to right (if ``mirrored``), then turned ``turns`` quarter turns."""
    return torch.rot90(x.flip(-1) if mirrored else x, turns, (-2, -1))


def _unview(x: torch.Tensor, turns: int, mirrored: bool) -> torch.Tensor:
    """The inverse of :func:`_view`: a prediction on the view, put back where the input's pixels are."""
    x = torch.rot90(x, -turns, (-2, -1))
    return x.flip(-1) if mirrored else x


def _widths(width: int, depth: int) -> list[int]:
    """Encoder widths C64-C128-C256-C512-C512-...: doubling up to 8x the base, then flat."""
    return [width * min(2**i, 8) for i in range(depth)]


class UnetGenerator(nn.Module):
    """``(N, in_channels, S, S) -> (N, out_channels, S, S)`` in [-1, 1], S a multiple of ``2 ** depth``.

    Encoder: ``depth`` 4x4 stride-2 convolutions (batch norm after all but the first and the last,
    LeakyReLU 0.2 before each but the first). Decoder: ``depth`` 4x4 stride-2 transposed convolutions,
    each (but the last) followed by batch norm and, for the first three, dropout; each takes the
    previous decoder output concatenated with the mirrored encoder output (ReLU first). The last
    one maps to ``out_channels`` and tanh. ``skips=False`` drops the concatenations: each decoder layer
    takes the previous one's output alone, which for depth 8 is the paper's encoder-decoder
    (Appendix 6.1.1: decoder CD512-CD512-CD512-C512-C256-C128-C64, Sec. 4.3). For depth 8 this is the authors' ``unet_256`` layer for
    layer, with one difference: dropout sits in the first three decoder layers, as the paper's
    Appendix 6.1.1 writes (CD512-CD1024-CD1024), where the authors' code puts it in the second to
    fourth. Neither the paper nor the code normalizes the 1x1 bottleneck (batch norm over one pixel
    of one image would zero it).

    Chapter 8.
    """

    def __init__(self, in_channels: int = 3, out_channels: int = 3, width: int = 64, depth: int = 8, dropout: float = 0.5,
                 residual: bool = False, skips: bool = True, blend: bool = False, gate_bias: float = -6.0,
                 gate_threshold: float = 0.0, unblend: bool = False, min_mark_pixels: int = 0, gate_views: int = 1):  # fmt: skip
        super().__init__()
        _check_gate_views(gate_views, unblend)
        self.gate_views = gate_views
        if unblend and not blend:
            raise ValueError("unblend is a kind of blend head: it needs blend=True")
        if min_mark_pixels and not (unblend and gate_threshold > 0):
            raise ValueError("min_mark_pixels counts the pixels an unblend head's thresholded gate opens on: it needs unblend=True and gate_threshold > 0")
        if min_mark_pixels < 0:
            raise ValueError(f"min_mark_pixels must be >= 0, got {min_mark_pixels}")
        self.min_mark_pixels = min_mark_pixels
        self.unblend = unblend
        if blend and (residual or in_channels != out_channels):
            raise ValueError(f"blend mixes the input with a predicted colour: it needs in_channels == out_channels and residual=False, got {in_channels}, {out_channels} and residual={residual}")
        self.blend, self.gate_threshold = blend, gate_threshold
        if residual and in_channels not in (1, out_channels):
            raise ValueError(f"a residual U-Net adds its input to its output: in_channels must be 1 or out_channels, got {in_channels} and {out_channels}")
        self.in_channels, self.out_channels, self.depth, self.residual, self.skips = in_channels, out_channels, depth, residual, skips
        w = _widths(width, depth)  # encoder output widths, e.g. 64 128 256 512 512 512 512 512
        self.down = nn.ModuleList()
        for i in range(depth):
            cin = in_channels if i == 0 else w[i - 1]
            layers: list[nn.Module] = [] if i == 0 else [nn.LeakyReLU(0.2, True)]
            layers.append(nn.Conv2d(cin, w[i], 4, stride=2, padding=1, bias=False))  # side / 2
            if 0 < i < depth - 1:  # no norm on the input layer and at the 1x1 bottleneck
                layers.append(nn.BatchNorm2d(w[i]))
            self.down.append(nn.Sequential(*layers))
        self.up = nn.ModuleList()
        for j in range(depth):  # j = 0 is the innermost decoder layer
            i = depth - 1 - j  # the encoder level it mirrors
            cin = 2 * w[i] if skips and j > 0 else w[i]  # the innermost one has no skip to concatenate
            last = i == 0
            cout = (w[0] if blend else out_channels) if last else w[i - 1]
            layers = [nn.ReLU(True), nn.ConvTranspose2d(cin, cout, 4, stride=2, padding=1, bias=last)]  # side * 2
            if last and not blend:
                layers.append(nn.Tanh())
            else:
                layers.append(nn.BatchNorm2d(cout))
                if j < 3 and dropout > 0:  # the paper's CD512-CD1024-CD1024: the first three decoder layers
                    layers.append(nn.Dropout(dropout))
            self.up.append(nn.Sequential(*layers))
        if residual:  # start as the identity: a random first correction costs more to unlearn than the marks are worth
            nn.init.zeros_(self.up[-1][1].weight)
            nn.init.zeros_(self.up[-1][1].bias)
        if blend:  # a full-resolution head on the decoder's features and the input pixels: colour c and weight m
            self.head = nn.Sequential(nn.ReLU(), nn.Conv2d(w[0] + in_channels, w[0], 3, padding=1), nn.ReLU(),
                                      nn.Conv2d(w[0], out_channels + (2 if unblend else out_channels), 3, padding=1))  # fmt: skip
            nn.init.constant_(self.head[-1].bias[out_channels:], gate_bias)  # -6: m = sigmoid(-6) = 0.0025, it starts as the identity
            if unblend:  # channels: b (out_channels), s, the gate's logit; their biases start at 0 (b and s start near 0, not at it)
                nn.init.zeros_(self.head[-1].bias[: out_channels + 1])

    def forward(self, x: torch.Tensor, *, bottleneck_scale: float = 1.0, with_gate: bool = False):
        """x (N, in_channels, S, S) -> (N, out_channels, S, S); ``with_gate``: also the blend weight's logits, same shape.

        ``bottleneck_scale=0`` zeroes the innermost code: what still reaches the output came
        through the skips (chapter 8 shows it). A residual U-Net returns ``clamp(x + U(x), -1, 1)``
        (a grayscale ``x`` added to each output channel). Without skips, each decoder layer sees only
        the one before it. A blend U-Net in eval mode passes through every pixel whose ``m`` is below
        ``gate_threshold``; an unblend head with ``gate_views > 1`` averages its predictions over the views first
        (``with_gate`` then returns the logits of the averaged gate).
        """
        if with_gate and not self.blend:
            raise ValueError("with_gate returns the blend head's weights: this U-Net was built with blend=False")
        check_images(x, name="the U-Net's input", channels=self.in_channels, value_range=None)
        side = 2**self.depth
        if x.shape[-1] % side or x.shape[-2] % side:
            raise ValueError(f"the U-Net halves its input {self.depth} times: height and width must be multiples of {side}, got {tuple(x.shape[-2:])}")
        if self.blend and self.unblend:
            if self.training or self.gate_views == 1:
                b, s, g = self._unblend_head(x, bottleneck_scale)  # (N, C | 1 | 1, S, S)
                gate = torch.sigmoid(g)
            else:  # every view's predictions, turned back onto the input's pixels, then averaged
                per_view = [[_unview(t, *v) for t in self._unblend_head(_view(x, *v), bottleneck_scale)] for v in GATE_VIEWS[self.gate_views]]
                b_views, s_views, g_views = zip(*per_view)
                b, s = torch.stack(b_views).mean(0), torch.stack(s_views).mean(0)  # (N, C, S, S), (N, 1, S, S)
                gate = torch.stack(g_views).sigmoid().mean(0)  # (N, 1, S, S): the mean probability, not the mean logit
                g = torch.logit(gate, eps=1e-6)  # for with_gate
            if not self.training and self.gate_threshold > 0:
                gate = (gate >= self.gate_threshold).to(x.dtype)  # 0: the input pixel, exactly; 1: undo the mark
                if self.min_mark_pixels:  # an image with fewer open pixels than a mark covers: passed through whole
                    gate = gate * (gate.flatten(1).sum(1) >= self.min_mark_pixels).to(x.dtype).view(-1, 1, 1, 1)
            out = (x + gate * (s * x + b)).clamp(-1, 1)  # s = a / (1 - a), b = -s k undo x = (1 - a) y + a k
            return (out, g.expand_as(x)) if with_gate else out
        h = self.encode_decode(x, bottleneck_scale)
        if self.blend:
            c, logits = self.head(torch.cat([h, x], dim=1)).chunk(2, dim=1)  # (N, out_channels, S, S) each
            m = torch.sigmoid(logits)  # how much of each pixel to repaint
            if self.gate_threshold > 0 and not self.training:
                m = m * (m >= self.gate_threshold)  # below the threshold: the input pixel, exactly
            out = (1 - m) * x + m * torch.tanh(c)
            return (out, logits) if with_gate else out
        return (x + h).clamp(-1, 1) if self.residual else h  # (N, out_channels, S, S); a 1-channel x broadcasts

    def encode_decode(self, x: torch.Tensor, bottleneck_scale: float = 1.0) -> torch.Tensor:
        """x (N, in_channels, S, S) -> the last decoder layer's output (N, w_0 or out_channels, S, S): the encoder down
        to the bottleneck, then the decoder back up, each of its layers fed the mirrored encoder output (the skips).

        Chapter 8.
        """
        skips = []
        h = x
        for layer in self.down:
            h = layer(h)
            skips.append(h)  # (N, w_i, S / 2^(i+1), S / 2^(i+1))
        h = self.up[0](skips[-1] * bottleneck_scale)
        for j in range(1, self.depth):
            h = self.up[j](torch.cat([h, skips[self.depth - 1 - j]], dim=1) if self.skips else h)  # with the mirrored encoder output
        return h

    def _unblend_head(self, x: torch.Tensor, bottleneck_scale: float) -> list[torch.Tensor]:
        """x (N, C, S, S) -> the unblend head's offset b (N, C, S, S), gain s and gate logits g (N, 1, S, S) each."""
        return self.head(torch.cat([self.encode_decode(x, bottleneck_scale), x], dim=1)).split([self.out_channels, 1, 1], dim=1)


class ConditionalPatchDiscriminator(nn.Module):
    """``D(x, y)``: patch logits ``(N, 1, H', W')`` for an input ``x`` and an output ``y`` of the same size.

    Args:
        in_channels, out_channels: channels of ``x`` and of ``y``.
        width: ``ndf``; n_layers: stride-2 layers (3: 70x70 patches; 0: the 1x1 PixelGAN of Sec. 4.4).
        conditional: True (the paper's): ``x`` and ``y`` stacked along channels, so D judges whether ``y``
            fits ``x``. False: ``y`` alone (``x`` is checked but unused), the unconditional GAN of Sec. 4.2.

    Chapter 8.
    """

    def __init__(self, in_channels: int = 3, out_channels: int = 3, width: int = 64, n_layers: int = 3, conditional: bool = True):
        super().__init__()
        self.in_channels, self.out_channels, self.conditional = in_channels, out_channels, conditional
        self.patch = PatchDiscriminator(in_channels * conditional + out_channels, width, n_layers)

    def forward(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """x (N, in_channels, H, W), y (N, out_channels, H, W) -> logits (N, 1, H', W')."""
        check_images(x, name="the discriminator's input image", channels=self.in_channels, value_range=None)
        check_images(y, name="the discriminator's output image", channels=self.out_channels, value_range=None)
        if x.shape[0] != y.shape[0] or x.shape[-2:] != y.shape[-2:]:
            raise ValueError(f"the conditional discriminator needs an input and an output of the same batch and size, got {tuple(x.shape)} and {tuple(y.shape)}")
        if not self.conditional:
            return self.patch(y)  # realism alone: any plausible photo passes, whatever x was
        return self.patch(torch.cat([x, y], dim=1))  # judged together: is y a translation of x?


class Pix2Pix(nn.Module):
    """The generator of a pix2pix run built from its config, answering the translation protocol.

    ``translate(x, "AtoB")`` maps inputs to outputs (pix2pix learns one direction only). The
    dropout layers stay in whatever mode the caller set: ``eval()`` gives one deterministic output,
    ``train()`` the paper's test-time noise (but batch norm then uses the batch's statistics).

    Chapter 8.
    """

    def __init__(self, config: Pix2PixConfig = Pix2PixConfig()):
        super().__init__()
        self.config = c = config
        self.G = UnetGenerator(c.in_channels, c.out_channels, c.g_width, c.depth, c.dropout, c.residual, c.skips, c.blend,
                               c.gate_bias, c.gate_threshold, c.unblend, c.min_mark_pixels, c.gate_views)  # fmt: skip

    def forward(self, x: torch.Tensor, *, with_gate: bool = False):
        """x (N, in_channels, S, S) -> (N, out_channels, S, S); ``with_gate``: also the blend head's logits."""
        return self.G(x, with_gate=with_gate)

    @torch.no_grad()
    def translate(self, x: torch.Tensor, direction: str = "AtoB") -> torch.Tensor:
        """x (N, in_channels, H, W) -> (N, out_channels, H, W), any H and W.

        The U-Net is fully convolutional, so an image of any size is translated whole: padded
        (mirrored at its edges) up to the next multiple of ``2 ** depth`` and cropped back.
        """
        if direction != "AtoB":
            raise ValueError(f"pix2pix learns one direction, input to output: direction must be 'AtoB', got {direction!r}")
        check_images(x, name="the input", channels=self.config.in_channels, value_range=None)
        h, w = x.shape[-2:]
        side = 2**self.config.depth
        pad_h, pad_w = -h % side, -w % side  # up to the next multiple of 2^depth
        mode = "reflect" if pad_h < h and pad_w < w else "replicate"  # reflection needs the image to be larger than the pad
        padded = F.pad(x, (0, pad_w, 0, pad_h), mode=mode) if pad_h or pad_w else x
        return self.G(padded)[..., :h, :w]

    directions = ("AtoB",)  # the translation protocol: pix2pix learns input -> output only
    fixed_size = None  # any size: translate pads to a multiple of 2^depth and crops back

    def source_channels(self, direction: str) -> int:
        """The channels ``translate(x, direction)`` expects of ``x``."""
        return self.config.in_channels

    def discriminator(self) -> ConditionalPatchDiscriminator:
        """A fresh conditional PatchGAN sized by the same config."""
        c = self.config
        return ConditionalPatchDiscriminator(c.in_channels, c.out_channels, c.d_width, c.d_layers, c.conditional)


__all__ = ["ConditionalPatchDiscriminator", "Pix2Pix", "Pix2PixConfig", "UnetGenerator"]
