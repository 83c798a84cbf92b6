"""Write the format-2 checkpoints of tests/test_checkpoint_compat.py with genlearn 0.2's own code.

Run it against a checkout of commit 5020e88 (genlearn 0.2.0), not against the current code:

    git worktree add /tmp/v02 5020e88
    PYTHONPATH=/tmp/v02 OMP_NUM_THREADS=1 python tests/data/format2/make_format2.py tests/data/format2
    git worktree remove /tmp/v02

Each run is one of 0.2's recipes (gan, vae, wgan-gp) at a tiny size, 3 steps on the digits, through 0.2's trainer
(``train_gan``, ``train_vae``, ``train_wgan``) with the checkpoint and run description its command line writes
(``run_info``): what a 0.2 user's ``python -m genlearn train ...`` leaves behind, small enough to commit.
"""

import sys
from pathlib import Path

import genlearn
from genlearn.data import get_dataset
from genlearn.models.critic import Critic, CriticConfig
from genlearn.models.dcgan import DCGANConfig, DCGANGenerator
from genlearn.models.mlp import MLPConfig, MLPDiscriminator, MLPGenerator
from genlearn.models.vae import VAEConfig
from genlearn.runtime import seed_everything
from genlearn.train.checkpoint import FORMAT, run_info
from genlearn.train.gan import GANConfig, train_gan
from genlearn.train.vae import train_vae
from genlearn.train.wgan import WGANConfig, train_wgan

STEPS, SEED = 3, 0


def main(out: Path) -> None:
    assert genlearn.__version__ == "0.2.0" and FORMAT == "genlearn-checkpoint-2", "run this with genlearn 0.2 (commit 5020e88)"
    out.mkdir(parents=True, exist_ok=True)
    x, y = get_dataset("digits", split="train")  # (N, 1, 8, 8) in [-1, 1]

    # recipes/gan.py: the MLP GAN on flattened images, here 16 hidden units
    model = MLPConfig(data_shape=(1, 8, 8), latent_dim=4, hidden=16, depth=2, tanh_output=True)
    config = GANConfig(batch_size=16, lr_g=2e-4, lr_d=2e-4)
    seed_everything(SEED)
    train_gan(MLPGenerator(model), MLPDiscriminator(model), x, config=config, steps=STEPS, seed=SEED, desc="gan",
              checkpoint=out / "gan.pt", run=run_info("gan", model.to_dict(), config.to_dict(), "digits", SEED))  # fmt: skip

    # recipes/vae.py: the conv VAE at the smoke profile's widths
    model = VAEConfig(arch="conv", channels=1, image_size=8, latent_dim=2, hidden=16, width=4)
    train_config = {"beta": 1.0, "binarized": False, "lr": 1e-3, "batch_size": 16}
    seed_everything(SEED)
    train_vae(model, x, steps=STEPS, batch_size=16, seed=SEED, device="cpu", desc="vae",
              checkpoint=out / "vae.pt", run=run_info("vae", model.to_dict(), train_config, "digits", SEED))  # fmt: skip

    # recipes/wgan.py: DCGAN's generator against a layer-norm critic, with an EMA of G
    x16, _ = get_dataset("digits", split="train", size=16)  # (N, 1, 16, 16)
    model = DCGANConfig.tiny()
    critic = CriticConfig.from_dcgan(model, norm="layer")
    config = WGANConfig.wgan_gp(n_critic=2, batch_size=16, ema_decay=0.9)
    seed_everything(SEED)
    train_wgan(DCGANGenerator(model), Critic(critic), x16, config=config, steps=STEPS, seed=SEED, desc="wgan-gp",
               checkpoint=out / "wgan-gp.pt",
               run=run_info("wgan-gp", model.to_dict(), config.to_dict() | {"critic": critic.to_dict()}, "digits", SEED))  # fmt: skip


if __name__ == "__main__":
    main(Path(sys.argv[1]))
