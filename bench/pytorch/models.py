"""PyTorch versions of BENCH.md's six speed configurations ("Speed configurations" and "Details for
a like-for-like comparison"), float32 on the CPU, weights initialised as PyTorch does by default.

Each `build_<family>(root)` returns a Task: `step()` runs one training step as BENCH.md defines it
(drawing the batch, forward, backward, optimizer update) and returns the loss as a float; `params`
is the number of trainable parameters, to check against the Go side's metrics.json.

Layout: images are NCHW [B, 1, 28, 28] (PyTorch's convolution layout) where the Go side has NHWC
[B, 28, 28, 1]: with one channel both hold the same numbers in the same order.
"""

import math
from dataclasses import dataclass
from typing import Callable

import torch
import torch.nn.functional as F
from torch import nn

import data

# Adam's ε is 1e-8 everywhere (BENCH.md), PyTorch's default; so are β = (0.9, 0.999).


@dataclass
class Task:
    step: Callable[[], float]
    params: int


def count_params(*modules: nn.Module) -> int:
    return sum(p.numel() for m in modules for p in m.parameters() if p.requires_grad)


def update(opt: torch.optim.Optimizer, loss: torch.Tensor, clip: float | None = None) -> float:
    """One optimizer update on loss (its gradients clipped to global norm clip, when given), and
    the loss as a float."""
    opt.zero_grad(set_to_none=True)
    loss.backward()
    if clip is not None:
        params = [p for group in opt.param_groups for p in group["params"]]
        torch.nn.utils.clip_grad_norm_(params, clip)  # global norm (Pascanu et al. 2013)
    opt.step()
    return loss.item()


def image_batch(images: torch.Tensor, batch: int, lo: float, hi: float) -> torch.Tensor:
    """A batch of uint8 images drawn at random, scaled to [lo, hi] as lib/data's Images.Float32
    does (lo + v·(hi − lo)/255). Indices are drawn with replacement: the Go side walks a shuffled
    epoch, which costs the same to gather."""
    idx = torch.randint(0, images.shape[0], (batch,))
    return images[idx].float().mul_((hi - lo) / 255).add_(lo)


# --- gan: DCGAN (Radford, Metz & Chintala 2016), non-saturating loss (Goodfellow et al. 2014) ---

class Generator(nn.Module):
    def __init__(self, latent=64, c=128):
        super().__init__()
        self.c = c
        self.dense = nn.Linear(latent, 7 * 7 * c)
        self.bn1 = nn.BatchNorm2d(c)  # momentum 0.1, ε 1e-5: PyTorch's defaults are BENCH.md's
        self.deconv1 = nn.ConvTranspose2d(c, c // 2, 4, stride=2, padding=1)  # 7 → 14
        self.bn2 = nn.BatchNorm2d(c // 2)
        self.deconv2 = nn.ConvTranspose2d(c // 2, 1, 4, stride=2, padding=1)  # 14 → 28

    def forward(self, z):
        h = F.relu(self.bn1(self.dense(z).view(-1, self.c, 7, 7)))
        h = F.relu(self.bn2(self.deconv1(h)))
        return torch.tanh(self.deconv2(h))


class Discriminator(nn.Module):
    def __init__(self, c=64):
        super().__init__()
        self.conv1 = nn.Conv2d(1, c, 4, stride=2, padding=1)  # 28 → 14
        self.conv2 = nn.Conv2d(c, 2 * c, 4, stride=2, padding=1)  # 14 → 7
        self.bn = nn.BatchNorm2d(2 * c)
        self.logit = nn.Linear(2 * c * 7 * 7, 1)

    def forward(self, x):
        h = F.leaky_relu(self.conv1(x), 0.2)
        h = F.leaky_relu(self.bn(self.conv2(h)), 0.2)
        return self.logit(h.flatten(1)).squeeze(1)


def build_gan(root) -> Task:
    images, batch, latent = data.mnist_train(root), 64, 64
    G, D = Generator(latent), Discriminator()
    opt_g = torch.optim.Adam(G.parameters(), lr=2e-4, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(D.parameters(), lr=2e-4, betas=(0.5, 0.999))
    ones, zeros = torch.ones(batch), torch.zeros(batch)
    bce = F.binary_cross_entropy_with_logits

    def step():
        real = image_batch(images, batch, -1, 1)
        fake = G(torch.randn(batch, latent))
        # D: BCE(D(real), 1) + BCE(D(fake), 0), two separate forward passes (BatchNorm sees each
        # batch alone); fake is detached so that this update leaves G alone.
        d_loss = update(opt_d, bce(D(real), ones) + bce(D(fake.detach()), zeros))
        # G: the same fake batch through the D just updated, non-saturating loss BCE(D(G(z)), 1).
        # D's weights need no gradient here (only G is updated), as on the Go side.
        D.requires_grad_(False)
        g_loss = bce(D(fake), ones)
        D.requires_grad_(True)
        return d_loss + update(opt_g, g_loss)

    return Task(step, count_params(G, D))


# --- vae: Kingma & Welling 2014, one reparameterised sample, KL in closed form (appendix B) ---

class VAE(nn.Module):
    def __init__(self, hidden=400, latent=20):
        super().__init__()
        self.enc = nn.Linear(784, hidden)
        self.mu = nn.Linear(hidden, latent)  # two separate heads for μ and log σ²
        self.logvar = nn.Linear(hidden, latent)
        self.dec = nn.Linear(latent, hidden)
        self.out = nn.Linear(hidden, 784)

    def forward(self, x):
        """−ELBO per image: Bernoulli reconstruction summed over the 784 pixels plus
        KL(q(z|x) ‖ N(0, I)) = ½ Σ_d (μ² + σ² − 1 − log σ²) summed over the latent dimensions."""
        h = F.relu(self.enc(x))
        mu, logvar = self.mu(h), self.logvar(h)
        z = mu + torch.exp(0.5 * logvar) * torch.randn_like(mu)  # z = μ + σ ⊙ ε (eq. 10)
        logits = self.out(F.relu(self.dec(z)))
        recon = F.binary_cross_entropy_with_logits(logits, x, reduction="none").sum(1)
        kl = 0.5 * (mu.square() + logvar.exp() - 1 - logvar).sum(1)
        return recon + kl


def build_vae(root) -> Task:
    images, batch = data.mnist_train(root).flatten(1), 128
    model = VAE()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)

    def step():
        grey = image_batch(images, batch, 0, 1)
        x = (torch.rand_like(grey) < grey).float()  # binarized afresh every step: x ~ Bernoulli(grey)
        loss = model(x).mean()
        return update(opt, loss)

    return Task(step, count_params(model))


# --- text batches (gpt, lstm) ---

def text_batch(ids: torch.Tensor, batch: int, ctx: int):
    """`batch` windows of ctx + 1 characters at uniformly random offsets of the training split
    (lib/data TextWindows): inputs and next-character targets, int32 [batch, ctx] as on the Go
    side. The targets become int64 for cross_entropy, which takes no other integer type."""
    offsets = torch.randint(0, ids.numel() - ctx, (batch, 1))
    windows = ids[offsets + torch.arange(ctx + 1)]
    return windows[:, :-1], windows[:, 1:].long()


# --- gpt: decoder-only Transformer (Radford et al. 2018; attention of Vaswani et al. 2017),
# pre-LayerNorm blocks (Xiong et al. 2020) ---

class Block(nn.Module):
    def __init__(self, d=128, heads=4, mlp=4):
        super().__init__()
        self.heads = heads
        self.ln_attn = nn.LayerNorm(d)  # ε 1e-5, PyTorch's default (the Go side sets the same)
        self.q, self.k, self.v, self.o = (nn.Linear(d, d) for _ in range(4))  # Dense with bias
        self.ln_mlp = nn.LayerNorm(d)
        self.up, self.down = nn.Linear(d, mlp * d), nn.Linear(mlp * d, d)

    def forward(self, x):
        b, t, d = x.shape
        h = self.ln_attn(x)
        q, k, v = (p(h).view(b, t, self.heads, d // self.heads).transpose(1, 2) for p in (self.q, self.k, self.v))
        # softmax(q·kᵀ/√32 + causal mask)·v: SDPA's default scale is 1/√(head dimension).
        a = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        x = x + self.o(a.transpose(1, 2).reshape(b, t, d))
        return x + self.down(F.gelu(self.up(self.ln_mlp(x))))  # exact (erf) GELU, PyTorch's default


class GPT(nn.Module):
    def __init__(self, vocab, ctx=64, d=128, heads=4, layers=4):
        super().__init__()
        self.tok = nn.Embedding(vocab, d)
        self.pos = nn.Embedding(ctx, d)  # learned position embeddings
        self.blocks = nn.Sequential(*(Block(d, heads) for _ in range(layers)))
        self.ln_f = nn.LayerNorm(d)
        self.head = nn.Linear(d, vocab)  # not tied to the embedding

    def forward(self, tokens):
        x = self.tok(tokens) + self.pos(torch.arange(tokens.shape[1]))
        return self.head(self.ln_f(self.blocks(x)))


def build_gpt(root) -> Task:
    ids, vocab = data.corpus_ids(root)
    batch, ctx = 32, 64
    model = GPT(vocab, ctx)
    # AdamW (Loshchilov & Hutter 2019) with its decoupled decay on every parameter.
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=0.1)

    def step():
        x, y = text_batch(ids, batch, ctx)
        loss = F.cross_entropy(model(x).flatten(0, 1), y.flatten())  # mean over all 32·64 positions
        return update(opt, loss)

    return Task(step, count_params(model))


# --- lstm: Hochreiter & Schmidhuber 1997, two stacked layers (PyTorch's fused nn.LSTM) ---

class CharLSTM(nn.Module):
    def __init__(self, vocab, embed=64, hidden=256, layers=2):
        super().__init__()
        self.embed = nn.Embedding(vocab, embed)
        self.lstm = nn.LSTM(embed, hidden, num_layers=layers)  # [T, B, F], as the Go side
        self.head = nn.Linear(hidden, vocab)

    def forward(self, tokens):
        h, _ = self.lstm(self.embed(tokens.t()))  # no state passed: every window starts from zero
        return self.head(h)  # [T, B, V]


def build_lstm(root) -> Task:
    ids, vocab = data.corpus_ids(root)
    batch, ctx = 32, 64
    model = CharLSTM(vocab)
    opt = torch.optim.Adam(model.parameters(), lr=2e-3)

    def step():
        x, y = text_batch(ids, batch, ctx)
        loss = F.cross_entropy(model(x).flatten(0, 1), y.t().flatten())
        return update(opt, loss, clip=1.0)

    return Task(step, count_params(model))


# --- diffusion: DDPM (Ho, Jain & Abbeel 2020) predicting ε, U-Net of their appendix B ---

def sinusoidal(t, dim=128):
    """[sin, cos] of t·10000^(−i/(dim/2 − 1)), i = 0…dim/2 − 1 (Vaswani et al. 2017, §3.5)."""
    half = dim // 2
    freqs = torch.pow(10000.0, -torch.arange(half, dtype=torch.float32) / (half - 1))
    args = t.float()[:, None] * freqs[None]
    return torch.cat([args.sin(), args.cos()], dim=1)


class ResBlock(nn.Module):
    def __init__(self, cin, cout, tdim=128, groups=8):
        super().__init__()
        self.gn1, self.conv1 = nn.GroupNorm(groups, cin), nn.Conv2d(cin, cout, 3, padding=1)
        self.temb = nn.Linear(tdim, cout)
        self.gn2, self.conv2 = nn.GroupNorm(groups, cout), nn.Conv2d(cout, cout, 3, padding=1)
        self.skip = nn.Conv2d(cin, cout, 1) if cin != cout else nn.Identity()

    def forward(self, x, temb):
        h = self.conv1(F.silu(self.gn1(x)))
        h = h + self.temb(F.silu(temb))[:, :, None, None]  # time embedding added per channel
        h = self.conv2(F.silu(self.gn2(h)))
        return self.skip(x) + h


class AttentionBlock(nn.Module):
    """GroupNorm, then every pixel attends to every pixel (4 heads; q, k, v and the output are
    per-pixel Dense layers), added back to the input."""

    def __init__(self, c, heads=4, groups=8):
        super().__init__()
        self.heads = heads
        self.gn = nn.GroupNorm(groups, c)
        self.q, self.k, self.v, self.o = (nn.Linear(c, c) for _ in range(4))

    def forward(self, x):
        b, c, hgt, wid = x.shape
        h = self.gn(x).flatten(2).transpose(1, 2)  # [B, H·W, C]
        q, k, v = (p(h).view(b, -1, self.heads, c // self.heads).transpose(1, 2) for p in (self.q, self.k, self.v))
        a = F.scaled_dot_product_attention(q, k, v).transpose(1, 2).reshape(b, -1, c)
        return x + self.o(a).transpose(1, 2).reshape(b, c, hgt, wid)


class UNet(nn.Module):
    """BENCH.md's U-Net in its order: conv_in 1→32; ResBlock 32→32 at 28×28 (skip); stride-2
    conv; ResBlock 32→64 at 14×14 (skip); stride-2 conv; ResBlock 64→64 and attention at 7×7;
    nearest ×2 and conv; ResBlock 128→64; nearest ×2 and conv; ResBlock 96→32; GroupNorm, SiLU,
    conv 32→1."""

    def __init__(self):
        super().__init__()
        self.temb1, self.temb2 = nn.Linear(128, 128), nn.Linear(128, 128)
        self.conv_in = nn.Conv2d(1, 32, 3, padding=1)
        self.down0, self.ds0 = ResBlock(32, 32), nn.Conv2d(32, 32, 3, stride=2, padding=1)
        self.down1, self.ds1 = ResBlock(32, 64), nn.Conv2d(64, 64, 3, stride=2, padding=1)
        self.mid, self.attn = ResBlock(64, 64), AttentionBlock(64)
        self.us1, self.up1 = nn.Conv2d(64, 64, 3, padding=1), ResBlock(128, 64)
        self.us0, self.up0 = nn.Conv2d(64, 64, 3, padding=1), ResBlock(96, 32)
        self.gn_out, self.conv_out = nn.GroupNorm(8, 32), nn.Conv2d(32, 1, 3, padding=1)

    def forward(self, x, t):
        temb = self.temb2(F.silu(self.temb1(sinusoidal(t))))
        s0 = self.down0(self.conv_in(x), temb)  # 28×28, 32
        s1 = self.down1(self.ds0(s0), temb)  # 14×14, 64
        h = self.attn(self.mid(self.ds1(s1), temb))  # 7×7, 64
        up = lambda h: F.interpolate(h, scale_factor=2, mode="nearest")  # noqa: E731
        h = self.up1(torch.cat([self.us1(up(h)), s1], 1), temb)  # 14×14, 128 → 64
        h = self.up0(torch.cat([self.us0(up(h)), s0], 1), temb)  # 28×28, 96 → 32
        return self.conv_out(F.silu(self.gn_out(h)))


def build_diffusion(root) -> Task:
    images, batch, T = data.mnist_train(root), 64, 1000
    beta = torch.linspace(1e-4, 0.02, T, dtype=torch.float64)  # linear schedule (Ho et al. §4)
    alpha_bar = torch.cumprod(1 - beta, 0)
    sqrt_ab, sqrt_1m_ab = alpha_bar.sqrt().float(), (1 - alpha_bar).sqrt().float()
    model = UNet()
    opt = torch.optim.Adam(model.parameters(), lr=2e-4)

    def step():
        x0 = image_batch(images, batch, -1, 1)
        t = torch.randint(0, T, (batch,))
        eps = torch.randn_like(x0)
        # x_t = √ᾱ_t·x_0 + √(1−ᾱ_t)·ε (eq. 4); L_simple = ‖ε − ε_θ(x_t, t)‖², mean over all pixels (eq. 14)
        xt = sqrt_ab[t].view(-1, 1, 1, 1) * x0 + sqrt_1m_ab[t].view(-1, 1, 1, 1) * eps
        loss = F.mse_loss(model(xt, t), eps)
        return update(opt, loss)

    return Task(step, count_params(model))


# --- flow: RealNVP (Dinh, Sohl-Dickstein & Bengio 2017), one scale, ActNorm (Kingma & Dhariwal
# 2018, Glow §3.1) ---

class ActNorm(nn.Module):
    """y = (x + b)·exp(ℓ) per channel, log|det| = H·W·Σℓ; b and ℓ are set from the first batch
    so that y has zero mean and unit variance (Glow's data-dependent initialisation)."""

    def __init__(self, channels=1):
        super().__init__()
        self.bias = nn.Parameter(torch.zeros(1, channels, 1, 1))
        self.log_scale = nn.Parameter(torch.zeros(1, channels, 1, 1))
        self.initialized = False

    def forward(self, x):
        if not self.initialized:
            with torch.no_grad():
                self.bias.copy_(-x.mean((0, 2, 3), keepdim=True))
                self.log_scale.copy_(-0.5 * torch.log(x.var((0, 2, 3), keepdim=True, unbiased=False) + 1e-6))
            self.initialized = True
        y = (x + self.bias) * self.log_scale.exp()
        return y, x.shape[2] * x.shape[3] * self.log_scale.sum()


class Coupling(nn.Module):
    """Affine coupling with a checkerboard mask b (Dinh et al. 2017, eq. 9 and §3.4):
    y = b⊙x + (1 − b)⊙(x⊙exp(s) + t), (raw, t) = CNN(b⊙x), s = scale·tanh(raw);
    log|det| = Σ s over the transformed pixels (eq. 6)."""

    def __init__(self, mask, hidden=64):
        super().__init__()
        self.register_buffer("mask", mask)
        self.net = nn.Sequential(nn.Conv2d(1, hidden, 3, padding=1), nn.ReLU(),
                                 nn.Conv2d(hidden, hidden, 3, padding=1), nn.ReLU(),
                                 nn.Conv2d(hidden, 2, 3, padding=1))
        self.scale = nn.Parameter(torch.ones(()))  # one learned scale per layer, starting at 1

    def forward(self, x):
        h = self.net(x * self.mask)
        keep = 1 - self.mask
        s = keep * self.scale * torch.tanh(h[:, :1])
        t = keep * h[:, 1:]
        return x * s.exp() + t, s.sum((1, 2, 3))


class RealNVP(nn.Module):
    def __init__(self, layers=8, alpha=0.05, size=28):
        super().__init__()
        self.alpha = alpha
        ij = torch.arange(size)[:, None] + torch.arange(size)[None]
        masks = [((ij % 2) == (k % 2)).float().view(1, 1, size, size) for k in range(layers)]  # even, odd, …
        self.norms = nn.ModuleList(ActNorm() for _ in range(layers))
        self.couplings = nn.ModuleList(Coupling(m) for m in masks)

    def forward(self, v):
        """Bits/dim of the dequantized pixels v ∈ [0, 256) per image, from the change of variables
        log p(v) = log N(z; 0, I) + log|det ∂z/∂v| (Dinh et al. 2017, eq. 3)."""
        # Logit transform (Dinh et al. 2017, §4.1): p = α + (1 − 2α)·v/256, z = logit p, with
        # its log-determinant, so that bits/dim are in 8-bit pixel space.
        p = self.alpha + (1 - 2 * self.alpha) * v / 256
        z = p.log() - torch.log1p(-p)
        logdet = (math.log((1 - 2 * self.alpha) / 256) - p.log() - torch.log1p(-p)).sum((1, 2, 3))
        for norm, coupling in zip(self.norms, self.couplings):
            z, ld = norm(z)
            logdet = logdet + ld
            z, ld = coupling(z)
            logdet = logdet + ld
        dims = z[0].numel()
        log_prior = -0.5 * z.square().sum((1, 2, 3)) - dims / 2 * math.log(2 * math.pi)
        return -(log_prior + logdet) / (dims * math.log(2))


def build_flow(root) -> Task:
    images, batch = data.mnist_train(root), 64
    model = RealNVP()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)

    def step():
        x = image_batch(images, batch, 0, 255)
        v = x + torch.rand_like(x)  # uniform dequantization: v = x + u, u ~ U[0, 1)
        loss = model(v).mean()
        return update(opt, loss)

    return Task(step, count_params(model))


FAMILIES = {"gan": build_gan, "vae": build_vae, "gpt": build_gpt, "lstm": build_lstm,
            "diffusion": build_diffusion, "flow": build_flow}
