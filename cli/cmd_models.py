"""`python main.py models`: list, download and verify the neural backends' weights."""

from __future__ import annotations

import argparse
import sys

from scene.errors import InputError

NAME = "models"
HELP = "list the neural backends and their weights; download or verify one (models download NAME)"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "action",
        nargs="?",
        choices=("list", "info", "download", "verify"),
        default="list",
        help="list (default): every backend with its state; info NAME: what it is for, "
        "how to choose it, its licence, files and packages; download NAME: fetch its "
        "weights into the Hugging Face cache (resumes); verify NAME: load it and run "
        "one tiny inference",
    )
    p.add_argument("name", nargs="?", help="the backend (first column of `models`)")
    p.add_argument(
        "--yes",
        action="store_true",
        help="download: accept a licence that restricts use without asking",
    )
    p.add_argument(
        "--endpoint",
        metavar="URL",
        help="download: the hub address (default: HF_ENDPOINT, else the Hugging Face hub)",
    )
    p.add_argument(
        "--device",
        default="auto",
        help="verify's device: auto (default: cuda, else mps, else cpu), cpu, cuda or mps",
    )


def _gb(n: float) -> str:
    return f"{n:.2f} GB" if n < 10 else f"{n:.0f} GB"


def format_table(states: list) -> str:
    """The `models` table: one row per backend, then the lines that say what is missing."""
    rows = [("NAME", "KIND", "STATE", "SIZE", "VRAM", "LICENCE", "REPO")]
    for st in states:
        b = st.backend
        state = st.state if not st.missing_packages else f"{st.state}, no package"
        if st.ready:
            state = "ready"
        lic = b.licence if len(b.licence) <= 28 else b.licence[:27] + "…"
        rows.append(
            (
                b.name,
                b.kind,
                state,
                _gb(b.size_gb),
                f"{b.vram_gb:g} GB",
                lic + (" *" if b.restricted else ""),
                " + ".join(b.repo_ids),
            )
        )
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in rows]
    notes = []
    for st in states:
        b = st.backend
        if st.state != "downloaded":
            why = f" ({st.detail})" if st.state == "broken" and st.detail else ""
            notes.append(f"  {b.name}: {st.state}{why} -> python main.py models download {b.name}")
        if st.missing_packages:
            notes.append(f"  {b.name}: needs {', '.join(st.missing_packages)} -> {b.pip}")
    out = "\n".join(lines)
    out += "\n\n* licence restricts use (shown again before download)"
    out += "\nwhat one is for and how to choose it: python main.py models info NAME"
    if notes:
        out += "\nto get the missing ones:\n" + "\n".join(notes)
    return out


def format_info(st) -> str:  # noqa: ANN001 - generators.models.hub.BackendState
    """`models info NAME`: one backend, whole (what the table shortens or leaves out)."""
    b = st.backend
    state = "ready" if st.ready else st.state
    why = [f"{r.repo}: {r.detail}" for r in st.repos if r.detail]  # (packages: below)
    lines = [
        f"{b.name}: {b.title}",
        f"  kind:      {b.kind}",
        f"  choose it: {b.option or '(no command-line option)'}",
        f"  state:     {state}" + (f" ({'; '.join(why)})" if why else ""),
        f"  size:      {_gb(b.size_gb)} download, about {b.vram_gb:g} GB of GPU memory"
        + ("" if b.cpu_ok else "; needs a GPU"),
        f"  licence:   {b.licence}" + (f" (restricts use: {b.restricted})" if b.restricted else ""),
        f"  packages:  {', '.join(b.packages)}"
        + (
            f" (missing: {', '.join(st.missing_packages)} -> {b.pip})"
            if st.missing_packages
            else ""
        ),
    ]
    for r in st.repos:
        where = f" at {r.snapshot}" if r.snapshot is not None else ""
        lines.append(f"  weights:   {r.repo}: {r.state}{where}")
    if b.gated:
        lines.append("  note:      gated on the hub: accept its terms and `hf auth login` first")
    if st.state != "downloaded":
        lines.append(f"  get it:    python main.py models download {b.name}")
    elif st.ready:
        lines.append(f"  check it:  python main.py models verify {b.name}")
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    from generators.models.hub import backend_state, cache_dir
    from generators.models.registry import BACKENDS, get_backend

    if args.action == "list":
        if args.name:
            raise InputError(
                "`models list` takes no name; use `models info NAME`, `models download NAME` "
                "or `models verify NAME`"
            )
        states = [backend_state(b) for b in BACKENDS]
        print(f"Hugging Face cache: {cache_dir()}")
        print(format_table(states))
        print(
            "none of these is needed: every generator's classical backend (the default) "
            "works without downloads"
        )
        return 0
    if not args.name:
        raise InputError(
            f"`models {args.action}` needs a backend name (see `python main.py models`)"
        )
    backend = get_backend(args.name)
    if args.action == "info":
        print(format_info(backend_state(backend)))
        return 0
    if args.action == "download":
        return _download(backend, args)
    return _verify(backend, args)


def _confirm_licence(backend, yes: bool) -> None:
    if not backend.restricted:
        return
    print(f"licence of {backend.name}: {backend.licence}\n  {backend.restricted}", file=sys.stderr)
    if yes:
        return
    if not sys.stdin.isatty():
        raise InputError(
            f"{backend.name}'s licence restricts use ({backend.restricted}); "
            "rerun with --yes to accept it"
        )
    answer = input("accept and download? [y/N] ").strip().lower()
    if answer not in ("y", "yes"):
        raise InputError(f"licence of {backend.name} not accepted: nothing downloaded")


def _download(backend, args: argparse.Namespace) -> int:
    from cli.progress import TerminalProgress
    from generators.models.download import download

    _confirm_licence(backend, args.yes)
    if backend.gated:
        print(
            f"note: {', '.join(backend.repo_ids)} may be gated: accept the terms on the model page "
            "and log in with `hf auth login` first",
            file=sys.stderr,
        )
    bar = TerminalProgress("download ")
    try:
        paths = download(backend, endpoint=args.endpoint, progress=bar)
    finally:
        bar.done()
    for p in paths:
        print(f"downloaded: {p}")
    print(f"next: python main.py models verify {backend.name}")
    return 0


def _verify(backend, args: argparse.Namespace) -> int:
    from generators.models.verify import verify

    res = verify(backend, device=args.device)
    print(
        f"{backend.name}: OK on {res['device']} ({res['dtype']}): {res['summary']}; "
        f"load {res['load_s']:.1f}s, inference {res['run_s']:.2f}s"
    )
    return 0
