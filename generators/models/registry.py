"""Every neural backend Wander knows: its Hugging Face repos, licence, size and needs.

Sizes are what `models download` fetches with the listed `allow` patterns (GB, 1e9 bytes);
VRAM is the peak the backend needs at its default settings on CUDA in fp16/bf16 (GB),
from the model cards and our own runs. `packages` are import names; `pip` is the line
that installs them.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Repo:
    """One Hugging Face model repo a backend needs.

    allow: `snapshot_download` allow_patterns (None = the whole repo);
    required: files that must be in the snapshot for it to count as downloaded.
    """

    id: str
    allow: tuple[str, ...] | None = None
    required: tuple[str, ...] = ("config.json",)


@dataclass(frozen=True)
class Backend:
    """A neural backend: `name` is what `models download NAME` and the CLI options take."""

    name: str
    kind: str  # panorama | depth | scene | object | segment
    title: str
    repos: tuple[Repo, ...]
    licence: str
    size_gb: float
    vram_gb: float
    packages: tuple[str, ...] = ("torch", "transformers")
    pip: str = "pip install torch transformers"
    restricted: str = ""  # non-empty: the licence limits use; shown before download
    gated: bool = False  # the repo needs a Hugging Face login and accepted terms
    option: str = ""  # how to choose it on the command line
    cpu_ok: bool = True  # runs (slowly) without a GPU
    notes: dict[str, str] = field(default_factory=dict)

    @property
    def repo_ids(self) -> list[str]:
        return [r.id for r in self.repos]


_DIFFUSERS = ("model_index.json",)

BACKENDS: tuple[Backend, ...] = (
    Backend(
        name="flux-pano",
        kind="panorama",
        title="FLUX.1-Fill + HunyuanWorld-1 PanoDiT-Image LoRA (1920x960 panoramas)",
        repos=(
            Repo(
                "black-forest-labs/FLUX.1-Fill-dev",
                allow=(
                    "model_index.json",
                    "scheduler/*",
                    "text_encoder/*",
                    "text_encoder_2/*",
                    "tokenizer/*",
                    "tokenizer_2/*",
                    "transformer/*",
                    "vae/*",
                ),
                required=_DIFFUSERS,
            ),
            Repo(
                "tencent/HunyuanWorld-1",
                allow=("HunyuanWorld-PanoDiT-Image/*",),
                required=("HunyuanWorld-PanoDiT-Image/lora.safetensors",),
            ),
        ),
        licence="FLUX.1 [dev] Non-Commercial; Tencent HunyuanWorld-1.0 Community",
        restricted=(
            "FLUX.1 [dev] weights are for non-commercial use only; the HunyuanWorld-1.0 "
            "licence excludes the EU, the UK and South Korea"
        ),
        gated=True,
        size_gb=34.2,
        vram_gb=24.0,
        cpu_ok=False,
        packages=("torch", "diffusers", "transformers", "peft"),
        pip="pip install 'wander[neural]'  (torch diffusers transformers peft accelerate)",
        option="panorama or world: --outpaint flux",
    ),
    Backend(
        name="sd-inpaint",
        kind="panorama",
        title="Stable Diffusion 1.5 inpainting (light panorama outpainting)",
        repos=(
            Repo(
                "stable-diffusion-v1-5/stable-diffusion-inpainting",
                allow=(
                    "model_index.json",
                    "scheduler/*",
                    "text_encoder/*.json",
                    "text_encoder/model.fp16.safetensors",
                    "tokenizer/*",
                    "unet/*.json",
                    "unet/diffusion_pytorch_model.fp16.safetensors",
                    "vae/*.json",
                    "vae/diffusion_pytorch_model.fp16.safetensors",
                    "feature_extractor/*",
                ),
                required=_DIFFUSERS,
            ),
        ),
        licence="CreativeML OpenRAIL-M",
        restricted="CreativeML OpenRAIL-M: use-based restrictions apply (see the model card)",
        size_gb=2.1,
        vram_gb=4.0,
        packages=("torch", "diffusers", "transformers"),
        pip="pip install torch diffusers transformers",
        option="panorama or world: --outpaint diffusion",
    ),
    Backend(
        name="depth-anything-v2-small",
        kind="depth",
        title="Depth Anything V2 Small (transformers)",
        repos=(
            Repo(
                "depth-anything/Depth-Anything-V2-Small-hf",
                required=("config.json", "preprocessor_config.json"),
            ),
        ),
        licence="Apache-2.0",
        size_gb=0.1,
        vram_gb=1.0,
        option="world: --depth neural (default neural model)",
    ),
    Backend(
        name="depth-anything-v2-large",
        kind="depth",
        title="Depth Anything V2 Large (transformers)",
        repos=(
            Repo(
                "depth-anything/Depth-Anything-V2-Large-hf",
                required=("config.json", "preprocessor_config.json"),
            ),
        ),
        licence="CC-BY-NC-4.0",
        restricted="CC-BY-NC-4.0: non-commercial use only",
        size_gb=1.3,
        vram_gb=3.0,
        option="world: --depth neural --depth-model depth-anything-v2-large",
    ),
    Backend(
        name="moge",
        kind="depth",
        title="MoGe-2 ViT-L (HunyuanWorld-1.0's depth model)",
        repos=(Repo("Ruicheng/moge-2-vitl-normal", required=("model.pt",)),),
        licence="MIT (code); weights per the model card",
        size_gb=1.3,
        vram_gb=4.0,
        packages=("torch", "moge"),
        pip=(
            "install MoGe from its source repository (microsoft/MoGe); "
            "it is not on the package index"
        ),
        option="world: --depth neural --depth-model moge",
    ),
    Backend(
        name="depth-anything-3",
        kind="scene",
        title="Depth Anything 3 (feed-forward cameras + depth + points from photos)",
        repos=(Repo("depth-anything/DA3-BASE", required=("config.json",)),),
        licence="Apache-2.0",
        size_gb=0.5,
        vram_gb=6.0,
        packages=("torch", "depth_anything_3"),
        pip=(
            "pip install depth-anything-3  (it pins numpy<2 and needs xformers and torchvision: "
            "use a separate environment)"
        ),
        option="reconstruct: --backend feedforward",
    ),
    Backend(
        name="hunyuan3d-2mini",
        kind="object",
        title="Hunyuan3D-2mini shape generation (hy3dgen)",
        repos=(
            Repo(
                "tencent/Hunyuan3D-2mini",
                allow=("hunyuan3d-dit-v2-mini/*",),
                required=("hunyuan3d-dit-v2-mini/config.yaml",),
            ),
        ),
        licence="Tencent Hunyuan 3D 2.0 Community",
        restricted=(
            "Tencent Hunyuan 3D 2.0 Community licence: excludes the EU, the UK and South Korea"
        ),
        size_gb=2.4,
        vram_gb=5.0,
        packages=("torch", "torchvision", "hy3dgen"),
        pip="pip install hy3dgen torchvision  (torchvision must match your torch build)",
        option="object: --backend hunyuan3d",
    ),
    Backend(
        name="zero123plus",
        kind="object",
        title="Zero123++ v1.2 multi-view diffusion (+ space carving)",
        repos=(
            Repo("sudo-ai/zero123plus-v1.2", required=_DIFFUSERS),
            Repo("sudo-ai/zero123plus-pipeline", allow=("pipeline.py",), required=("pipeline.py",)),
        ),
        licence="Apache-2.0",
        size_gb=5.1,
        vram_gb=6.0,
        packages=("torch", "diffusers", "transformers"),
        pip="pip install torch diffusers transformers",
        option="object: --backend multiview",
    ),
    Backend(
        name="sam2-tiny",
        kind="segment",
        title="SAM 2.1 Hiera-Tiny click/box segmentation (transformers)",
        repos=(Repo("facebook/sam2.1-hiera-tiny", required=("config.json",)),),
        licence="Apache-2.0",
        size_gb=0.16,
        vram_gb=1.0,
        option="object: --segmenter neural (default neural model)",
    ),
    Backend(
        name="sam-vit-base",
        kind="segment",
        title="Segment Anything ViT-B (transformers)",
        repos=(Repo("facebook/sam-vit-base", required=("config.json",)),),
        licence="Apache-2.0",
        size_gb=0.38,
        vram_gb=2.0,
        option="object: --segmenter neural --sam sam-vit-base",
    ),
)

#: the backend each kind uses when the user asks for "neural" without naming a model
DEFAULTS = {
    "depth": "depth-anything-v2-small",
    "segment": "sam2-tiny",
    "object": "zero123plus",
    "scene": "depth-anything-3",
}


def get_backend(name: str) -> Backend:
    """The backend called `name`; ValueError naming the known ones otherwise."""
    for b in BACKENDS:
        if b.name == name:
            return b
    raise ValueError(
        f"unknown model {name!r}; known: {', '.join(b.name for b in BACKENDS)} "
        "(list them with `python main.py models`)"
    )


def is_backend_name(text: str) -> bool:
    return any(b.name == text for b in BACKENDS)
