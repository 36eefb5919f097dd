"""Helpers for the model-manager tests: tiny random-weight models written in the Hugging Face
cache layout, and a local stand-in for the hub's HTTP endpoints (no network)."""

from __future__ import annotations

import hashlib
import json
import shutil
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urlparse

SHA = "0123456789abcdef0123456789abcdef01234567"


def put_in_cache(
    src: Path, repo_id: str, cache: Path, subfolder: str = "", commit: str = SHA
) -> Path:
    """Copy folder `src` into `cache` as repo `repo_id` (under `subfolder`), the way
    huggingface_hub stores it: blobs by hash, snapshot files as links, refs/main."""
    root = cache / ("models--" + repo_id.replace("/", "--"))
    snap = root / "snapshots" / commit
    (root / "blobs").mkdir(parents=True, exist_ok=True)
    (root / "refs").mkdir(parents=True, exist_ok=True)
    (root / "refs" / "main").write_text(commit)
    for f in sorted(Path(src).rglob("*")):
        if not f.is_file():
            continue
        data = f.read_bytes()
        blob = root / "blobs" / hashlib.sha256(data).hexdigest()
        blob.write_bytes(data)
        dst = snap / subfolder / f.relative_to(src)
        dst.parent.mkdir(parents=True, exist_ok=True)
        if dst.exists() or dst.is_symlink():
            dst.unlink()
        dst.symlink_to(Path("../" * (len(dst.relative_to(snap).parts) + 1)) / "blobs" / blob.name)
    return snap


class StandInHub:
    """A local HTTP server answering what `snapshot_download` asks: repo info, the file tree,
    and HEAD/GET (with Range, for resume) of `resolve/<rev>/<file>`. repos: repo id -> folder.

    `fail_after` (bytes) makes every GET stop after that many bytes once (a broken download),
    to test resume; `requests` logs every path asked.
    """

    def __init__(self, repos: dict[str, Path]) -> None:
        self.repos = {k: Path(v) for k, v in repos.items()}
        self.requests: list[str] = []
        self.fail_after: int | None = None
        hub = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *a) -> None:  # quiet
                pass

            def _files(self, repo: str) -> list[Path]:
                return sorted(p for p in hub.repos[repo].rglob("*") if p.is_file())

            def _repo(self, parts: list[str]) -> str | None:
                rid = "/".join(parts[:2])
                return rid if rid in hub.repos else None

            def _json(self, obj, code: int = 200) -> None:
                body = json.dumps(obj).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(body)

            def _missing(self) -> None:
                body = b'{"error": "Repository not found"}'
                self.send_response(404)
                self.send_header("X-Error-Code", "RepoNotFound")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(body)

            def do_HEAD(self) -> None:
                self.do_GET()

            def do_GET(self) -> None:
                url = urlparse(self.path)
                hub.requests.append(f"{self.command} {url.path}")
                parts = [unquote(p) for p in url.path.strip("/").split("/")]
                if parts[:2] == ["api", "models"]:
                    repo = self._repo(parts[2:])
                    if repo is None:
                        return self._missing()
                    rest = parts[4:]
                    files = self._files(repo)
                    root = hub.repos[repo]
                    if rest[:1] == ["revision"]:
                        return self._json(
                            {
                                "id": repo,
                                "modelId": repo,
                                "sha": SHA,
                                "private": False,
                                "siblings": [
                                    {"rfilename": f.relative_to(root).as_posix()} for f in files
                                ],
                            }
                        )
                    if rest[:1] == ["tree"]:
                        out = []
                        for f in files:
                            data = f.read_bytes()
                            out.append(
                                {
                                    "type": "file",
                                    "path": f.relative_to(root).as_posix(),
                                    "size": len(data),
                                    "oid": hashlib.sha1(data).hexdigest(),
                                }
                            )
                        return self._json(out)
                    return self._missing()
                repo = self._repo(parts)
                if repo is None or len(parts) < 5 or parts[2] != "resolve":
                    return self._missing()
                f = hub.repos[repo].joinpath(*parts[4:])
                if not f.is_file():
                    body = b"{}"
                    self.send_response(404)
                    self.send_header("X-Error-Code", "EntryNotFound")
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    if self.command != "HEAD":
                        self.wfile.write(body)
                    return
                data = f.read_bytes()
                start = 0
                rng = self.headers.get("Range")
                if rng and rng.startswith("bytes="):
                    start = int(rng[6:].split("-")[0] or 0)
                body = data[start:]
                self.send_response(206 if start else 200)
                self.send_header("X-Repo-Commit", SHA)
                self.send_header("ETag", f'"{hashlib.sha256(data).hexdigest()}"')
                self.send_header("Content-Length", str(len(body)))
                if start:
                    self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
                self.end_headers()
                if self.command == "HEAD":
                    return
                cut = hub.fail_after
                if cut is not None and len(body) > cut:
                    hub.fail_after = None
                    self.wfile.write(body[:cut])
                    self.wfile.flush()
                    self.close_connection = True
                    return
                self.wfile.write(body)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> StandInHub:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()


def copy_tree(src: Path, dst: Path) -> Path:
    shutil.copytree(src, dst, dirs_exist_ok=True)
    return dst


# --- tiny random-weight models (the diffusers `get_dummy_components` pattern) -----------------


def _byte_chars() -> list[str]:
    """CLIP's bytes_to_unicode alphabet (256 printable characters)."""
    bs = (
        list(range(ord("!"), ord("~") + 1))
        + list(range(ord("¡"), ord("¬") + 1))
        + list(range(ord("®"), ord("ÿ") + 1))
    )
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return [chr(c) for c in cs]


def tiny_clip_tokenizer(folder: Path):
    """A byte-level BPE CLIP tokenizer with a handful of merges, built from files written here."""
    from transformers import CLIPTokenizer

    vocab = {"<|startoftext|>": 0, "!": 1, "<|endoftext|>": 2}
    for ch in _byte_chars() + [c + "</w>" for c in _byte_chars()]:
        vocab.setdefault(ch, len(vocab))
    merges = ["#version: 0.2", "s k", "sk y</w>", "t r", "e e</w>"]
    for tok in ("sk", "sky</w>", "tr", "ee</w>"):
        vocab[tok] = len(vocab)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "vocab.json").write_text(json.dumps(vocab))
    (folder / "merges.txt").write_text("\n".join(merges) + "\n")
    return CLIPTokenizer(
        str(folder / "vocab.json"), str(folder / "merges.txt"), model_max_length=77, pad_token="!"
    )


def tiny_t5_tokenizer():
    """A T5 (Unigram) tokenizer over letters and a few words."""
    from transformers import T5TokenizerFast

    vocab = [("<pad>", 0.0), ("</s>", 0.0), ("<unk>", 0.0), ("\u2581", -2.0)]
    vocab += [(ch, -3.0) for ch in "abcdefghijklmnopqrstuvwxyz"]
    vocab += [("\u2581" + w, -1.0) for w in ("a", "sky", "room", "panorama")]
    return T5TokenizerFast(vocab=vocab, extra_ids=0)


def build_tiny_flux_fill(folder: Path) -> tuple[Path, Path]:
    """A tiny FluxFillPipeline (diffusers' test components) saved to folder/'fill', and a
    random rank-4 PanoDiT-style LoRA saved as
    folder/'lora'/HunyuanWorld-PanoDiT-Image/lora.safetensors."""
    import torch
    from diffusers import (
        AutoencoderKL,
        FlowMatchEulerDiscreteScheduler,
        FluxFillPipeline,
        FluxTransformer2DModel,
    )
    from peft import LoraConfig
    from peft.utils import get_peft_model_state_dict
    from transformers import CLIPTextConfig, CLIPTextModel, T5Config, T5EncoderModel

    torch.manual_seed(0)
    tr = FluxTransformer2DModel(
        patch_size=1,
        in_channels=20,
        out_channels=8,
        num_layers=1,
        num_single_layers=1,
        attention_head_dim=16,
        num_attention_heads=2,
        joint_attention_dim=32,
        pooled_projection_dim=32,
        axes_dims_rope=[4, 4, 8],
    )
    vae = AutoencoderKL(
        sample_size=32,
        in_channels=3,
        out_channels=3,
        block_out_channels=(4,),
        layers_per_block=1,
        latent_channels=2,
        norm_num_groups=1,
        use_quant_conv=False,
        use_post_quant_conv=False,
        shift_factor=0.0609,
        scaling_factor=1.5035,
    )
    te = CLIPTextModel(
        CLIPTextConfig(
            bos_token_id=0,
            eos_token_id=2,
            hidden_size=32,
            intermediate_size=37,
            layer_norm_eps=1e-5,
            num_attention_heads=4,
            num_hidden_layers=2,
            pad_token_id=1,
            vocab_size=1000,
            hidden_act="gelu",
            projection_dim=32,
        )
    )
    te2 = T5EncoderModel(
        T5Config(
            vocab_size=1000,
            d_model=32,
            d_kv=8,
            d_ff=37,
            num_layers=2,
            num_heads=4,
            decoder_start_token_id=0,
        )
    )
    pipe = FluxFillPipeline(
        scheduler=FlowMatchEulerDiscreteScheduler(),
        vae=vae,
        text_encoder=te,
        tokenizer=tiny_clip_tokenizer(folder / "tok-src"),
        text_encoder_2=te2,
        tokenizer_2=tiny_t5_tokenizer(),
        transformer=tr,
    )
    pipe.save_pretrained(folder / "fill")
    tr.add_adapter(
        LoraConfig(
            r=4,
            lora_alpha=4,
            init_lora_weights=False,
            target_modules=["to_q", "to_k", "to_v", "to_out.0"],
        )
    )
    lora_dir = folder / "lora" / "HunyuanWorld-PanoDiT-Image"
    lora_dir.mkdir(parents=True)
    FluxFillPipeline.save_lora_weights(
        str(lora_dir),
        transformer_lora_layers=get_peft_model_state_dict(tr),
        weight_name="lora.safetensors",
    )
    return folder / "fill", folder / "lora"


def tiny_dpt_processor():  # noqa: ANN201 - transformers' DPTImageProcessor
    """The DPT processor of the tiny Depth Anything models (64 px input, mean/std 0.5)."""
    from transformers import DPTImageProcessor

    return DPTImageProcessor(
        do_resize=True,
        size={"height": 64, "width": 64},
        keep_aspect_ratio=False,
        ensure_multiple_of=8,
        do_normalize=True,
        image_mean=[0.5] * 3,
        image_std=[0.5] * 3,
    )


def build_tiny_depth_anything(folder: Path) -> Path:
    """A tiny random DepthAnythingForDepthEstimation + DPT processor (64 px input)."""
    import torch
    from transformers import DepthAnythingConfig, DepthAnythingForDepthEstimation, Dinov2Config

    torch.manual_seed(0)
    bb = Dinov2Config(
        image_size=64,
        patch_size=8,
        num_channels=3,
        hidden_size=16,
        num_hidden_layers=4,
        num_attention_heads=2,
        intermediate_size=32,
        out_features=["stage1", "stage2", "stage3", "stage4"],
        reshape_hidden_states=False,
    )
    cfg = DepthAnythingConfig(
        backbone_config=bb,
        reassemble_hidden_size=16,
        patch_size=8,
        neck_hidden_sizes=[8, 8, 16, 16],
        fusion_hidden_size=8,
        head_hidden_size=8,
    )
    DepthAnythingForDepthEstimation(cfg).save_pretrained(folder)
    tiny_dpt_processor().save_pretrained(folder)
    return folder


def build_tiny_sam2(folder: Path) -> Path:
    """A tiny random transformers Sam2Model (128 px input, 4-stage Hiera)."""
    import torch
    from transformers import (
        Sam2Config,
        Sam2HieraDetConfig,
        Sam2MaskDecoderConfig,
        Sam2Model,
        Sam2PromptEncoderConfig,
        Sam2VisionConfig,
    )

    torch.manual_seed(0)
    bb = Sam2HieraDetConfig(
        hidden_size=8,
        num_attention_heads=1,
        image_size=[128, 128],
        patch_kernel_size=[7, 7],
        patch_stride=[4, 4],
        patch_padding=[3, 3],
        query_stride=[2, 2],
        window_positional_embedding_background_size=[2, 2],
        num_query_pool_stages=3,
        blocks_per_stage=[1, 1, 2, 1],
        embed_dim_per_stage=[8, 16, 32, 64],
        num_attention_heads_per_stage=[1, 1, 1, 1],
        window_size_per_stage=[4, 4, 4, 4],
        global_attention_blocks=[3],
    )
    vc = Sam2VisionConfig(
        backbone_config=bb,
        backbone_channel_list=[64, 32, 16, 8],
        backbone_feature_sizes=[[32, 32], [16, 16], [8, 8]],
        fpn_hidden_size=16,
    )
    cfg = Sam2Config(
        vision_config=vc,
        prompt_encoder_config=Sam2PromptEncoderConfig(
            hidden_size=16, image_size=128, patch_size=16, mask_input_channels=4
        ),
        mask_decoder_config=Sam2MaskDecoderConfig(
            hidden_size=16,
            mlp_dim=16,
            num_hidden_layers=1,
            num_attention_heads=2,
            iou_head_hidden_dim=8,
        ),
    )
    Sam2Model(cfg).save_pretrained(folder)
    return folder


def build_tiny_sd_inpaint(folder: Path) -> Path:
    """A tiny random StableDiffusionInpaintPipeline (9-channel UNet) saved to `folder`."""
    import torch
    from diffusers import (
        AutoencoderKL,
        PNDMScheduler,
        StableDiffusionInpaintPipeline,
        UNet2DConditionModel,
    )
    from transformers import CLIPTextConfig, CLIPTextModel

    torch.manual_seed(0)
    unet = UNet2DConditionModel(
        block_out_channels=(32, 64),
        layers_per_block=1,
        sample_size=16,
        in_channels=9,
        out_channels=4,
        down_block_types=("DownBlock2D", "CrossAttnDownBlock2D"),
        up_block_types=("CrossAttnUpBlock2D", "UpBlock2D"),
        cross_attention_dim=32,
    )
    vae = AutoencoderKL(
        block_out_channels=[32, 64],
        in_channels=3,
        out_channels=3,
        down_block_types=["DownEncoderBlock2D"] * 2,
        up_block_types=["UpDecoderBlock2D"] * 2,
        latent_channels=4,
    )
    text = CLIPTextModel(
        CLIPTextConfig(
            bos_token_id=0,
            eos_token_id=2,
            hidden_size=32,
            intermediate_size=37,
            layer_norm_eps=1e-5,
            num_attention_heads=4,
            num_hidden_layers=2,
            pad_token_id=1,
            vocab_size=1000,
        )
    )
    pipe = StableDiffusionInpaintPipeline(
        vae=vae,
        text_encoder=text,
        tokenizer=tiny_clip_tokenizer(folder / "tok"),
        unet=unet,
        scheduler=PNDMScheduler(skip_prk_steps=True),
        safety_checker=None,
        feature_extractor=None,
        requires_safety_checker=False,
    )
    pipe.save_pretrained(folder / "pipe")
    return folder / "pipe"


def build_tiny_multiview(folder: Path, view: int = 32) -> Path:
    """A tiny WanderMultiViewPipeline (Zero123++ grid layout) saved to `folder`."""
    import torch
    from diffusers import AutoencoderKL, EulerAncestralDiscreteScheduler, UNet2DConditionModel
    from transformers import CLIPImageProcessor, CLIPVisionConfig, CLIPVisionModelWithProjection

    from generators.objects.multiview import wander_pipeline_class

    torch.manual_seed(0)
    unet = UNet2DConditionModel(
        sample_size=16,
        in_channels=8,
        out_channels=4,
        layers_per_block=1,
        block_out_channels=(8, 16),
        down_block_types=("CrossAttnDownBlock2D", "DownBlock2D"),
        up_block_types=("UpBlock2D", "CrossAttnUpBlock2D"),
        cross_attention_dim=8,
        attention_head_dim=2,
        norm_num_groups=4,
    )
    vae = AutoencoderKL(
        block_out_channels=(8, 16),
        in_channels=3,
        out_channels=3,
        latent_channels=4,
        norm_num_groups=4,
        down_block_types=["DownEncoderBlock2D"] * 2,
        up_block_types=["UpDecoderBlock2D"] * 2,
        sample_size=32,
    )
    encoder = CLIPVisionModelWithProjection(
        CLIPVisionConfig(
            hidden_size=8,
            intermediate_size=16,
            projection_dim=8,
            num_hidden_layers=1,
            num_attention_heads=2,
            image_size=32,
            patch_size=8,
        )
    )
    processor = CLIPImageProcessor(
        size={"shortest_edge": 32}, crop_size={"height": 32, "width": 32}
    )
    pipe = wander_pipeline_class()(
        unet=unet,
        vae=vae,
        image_encoder=encoder,
        feature_extractor=processor,
        scheduler=EulerAncestralDiscreteScheduler(timestep_spacing="trailing"),
        view_size=view,
    )
    pipe.save_pretrained(str(folder))
    return folder


def install_tiny_backends(cache: Path, work: Path, names: list[str] | None = None) -> list[str]:
    """Build tiny random versions of the backends Wander can run here and put them in `cache`
    under their real repo ids. Returns the names installed."""
    from generators.models.registry import get_backend

    builders = {
        "flux-pano": lambda: build_tiny_flux_fill(work / "flux"),
        "sd-inpaint": lambda: (build_tiny_sd_inpaint(work / "sd"),),
        "depth-anything-v2-small": lambda: (build_tiny_depth_anything(work / "depth"),),
        "sam2-tiny": lambda: (build_tiny_sam2(work / "sam2"),),
        "zero123plus": lambda: (
            build_tiny_multiview(work / "mv"),
            _pipeline_code(work / "mv-code"),
        ),
    }
    done = []
    for name, build in builders.items():
        if names is not None and name not in names:
            continue
        folders = build()
        for repo, folder in zip(get_backend(name).repos, folders):
            put_in_cache(folder, repo.id, cache)
        done.append(name)
    return done


def _pipeline_code(folder: Path) -> Path:
    """Stand-in for sudo-ai/zero123plus-pipeline (its pipeline.py; unused by a Wander pipeline)."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "pipeline.py").write_text("# custom pipeline code of the Zero123++ repo\n")
    return folder
