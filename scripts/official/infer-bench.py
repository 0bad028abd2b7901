#!/usr/bin/env python3
"""Inference speed of the official PyTorch TRM code, the baseline our inference server is compared with.

For each (model, batch, mode) row it times one "solve" as the official pretrain.evaluate runs one: copy the batch
host -> device, initial_carry, --steps calls of the ACT model (eval mode halts every row exactly at
halt_max_steps, which is set to --steps), then argmax of the last logits copied back to the host. It reports
the median, p99 (nearest rank; the max when there are fewer than 100 repeats) and min of the solve time after
--warmup untimed solves, puzzles/s = batch / median, and model TFLOP/s from the matmul count (FLOP_FORMULA).
Modes: eager; compiled = torch.compile(model) as pretrain.py does; cudagraphs = torch.compile(mode=
"reduce-overhead") (CUDA graphs; the carry is cloned between calls, as CUDAGraph Trees asks of outputs fed back
as inputs); max-autotune = torch.compile(mode="max-autotune"). Random initial weights and inputs (speed only).

The official code is imported from --trm (default .ref/, written by `bash scripts/official/fetch-reference.sh`);
pydantic and einops are replaced by small stand-ins when missing. Needs Python >= 3.10 and PyTorch >= 2.5.
On the GPU host, from the repository root, with .ref/ copied along:
    python3 scripts/official/infer-bench.py --trm .ref --json $OUT/official-infer.json
CPU dry run:
    python3 scripts/official/infer-bench.py --device cpu --tiny --configs 'sudoku-mlp:1,4:eager;maze-att:2:eager'
"""

import argparse
import dataclasses
import gc
import hashlib
import json
import math
import os
import platform
import statistics
import sys
import time
import traceback
import types
import typing
from datetime import datetime, timezone

# Paper presets (config/arch/trm.yaml with the README's sudoku and maze overrides), as pretrain.create_model
# passes them: arch fields + data fields + causal=False. batch_size, halt_max_steps, forward_dtype set per row.
BASE_ARCH = dict(hidden_size=512, num_heads=8, expansion=4, H_layers=0, L_layers=2, H_cycles=3, L_cycles=6,
                 puzzle_emb_ndim=512, puzzle_emb_len=16, pos_encodings="rope", mlp_t=False, no_ACT_continue=True,
                 halt_exploration_prob=0.1, num_puzzle_identifiers=1, causal=False)
ARCHS = {
    "sudoku-mlp": dict(BASE_ARCH, mlp_t=True, pos_encodings="none", seq_len=81, vocab_size=11),
    "sudoku-att": dict(BASE_ARCH, seq_len=81, vocab_size=11),
    "maze-att": dict(BASE_ARCH, L_cycles=4, seq_len=900, vocab_size=6),
}
TINY = dict(hidden_size=64, num_heads=2, puzzle_emb_ndim=64, H_cycles=2, L_cycles=2)  # --tiny: CPU dry runs
MODES = {"eager": None, "compiled": "default", "cudagraphs": "reduce-overhead", "max-autotune": "max-autotune"}
CUDA_GRAPH_MODES = ("cudagraphs", "max-autotune")  # both capture CUDA graphs on a GPU
DEFAULT_CONFIGS = ("sudoku-mlp:1:cudagraphs;sudoku-mlp:1,64,256,1024,2048:eager,compiled;"
                   "maze-att:1:cudagraphs;maze-att:1,16,64:eager,compiled")
FLOP_FORMULA = ("matmul FLOPs (2 per multiply-add) per puzzle and supervision step = H_cycles*(L_cycles+1)*L_layers"
                "*block + 2*S*D*V + 4*D, block = 6*S*D*I [+ mlp_t: 6*D*S*It | + attention: 8*S*D*D + 4*S*S*D], "
                "S = seq_len + puzzle_emb_len, I = SwiGLU width of D, It = of S (ceil(round(4*x*2/3) / 256) * 256); "
                "TFLOP/s = batch * steps * that / median solve time")


def parse_configs(text):
    """'MODEL:B1,B2:MODE1,MODE2;...' -> [(model, batch, mode), ...] in the order given."""
    rows = []
    for part in filter(None, (p.strip() for p in text.split(";"))):
        fields = part.split(":")
        if len(fields) != 3 or fields[0] not in ARCHS:
            raise ValueError(f"{part!r}: expected MODEL:BATCHES:MODES with MODEL one of {', '.join(ARCHS)}")
        batches, modes = fields[1].split(","), fields[2].split(",")
        if not all(b.strip().isdigit() and int(b) > 0 for b in batches):
            raise ValueError(f"{part!r}: batches must be positive integers separated by commas")
        if not all(m.strip() in MODES for m in modes):
            raise ValueError(f"{part!r}: modes must be among {', '.join(MODES)}")
        rows += [(fields[0], int(b), m.strip()) for b in batches for m in modes]
    return rows


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--trm", default=".ref", help="folder holding the official models/ package (default .ref)")
    p.add_argument("--configs", default=DEFAULT_CONFIGS,
                   help="rows to run, MODEL:BATCHES:MODES joined by ';', e.g. 'sudoku-mlp:1,64:eager,compiled;"
                        f"maze-att:1:cudagraphs'. Models: {', '.join(ARCHS)}; modes: {', '.join(MODES)}. "
                        f"Default: {DEFAULT_CONFIGS}")
    p.add_argument("--steps", type=int, default=16, help="supervision steps per solve (= halt_max_steps)")
    p.add_argument("--warmup", type=int, default=3, help="untimed solves per row; the first one compiles")
    p.add_argument("--repeats", type=int, default=100, help="timed solves per row, at most")
    p.add_argument("--row-seconds", type=float, default=20.0,
                   help="fewer repeats (not below 3) when they would take longer than this")
    p.add_argument("--deadline", type=float, default=0.0, help="skip rows that would start this many seconds "
                   "after launch (0: none); the JSON is rewritten after every row either way")
    p.add_argument("--device", choices=("cuda", "cpu"), default="cuda")
    p.add_argument("--dtype", choices=("bfloat16", "float32"), default="bfloat16", help="the config's forward_dtype")
    p.add_argument("--loss-head", action="store_true", help="run ACTLossHead (loss + metrics, and a read-back of "
                   "all_finish every step) exactly as pretrain.evaluate does, instead of the bare ACT model")
    p.add_argument("--tiny", action="store_true", help=f"shrink every model ({TINY}) for a quick dry run")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--json", help="write every row and the environment to this file")
    args = p.parse_args(argv)
    try:
        args.rows = parse_configs(args.configs)
    except ValueError as error:
        p.error(f"--configs: {error}")
    if args.steps < 1 or args.warmup < 1 or args.repeats < 1:
        p.error("--steps, --warmup and --repeats must be at least 1")
    return args


class ConfigStandIn:
    """What trm.py takes from pydantic.BaseModel: annotated fields, class defaults, ints accepted for float fields,
    unknown keys ignored (pydantic's default, which drops the `causal` key pretrain.py passes)."""

    def __init__(self, **values):
        for name, kind in typing.get_type_hints(type(self)).items():
            if name not in values and not hasattr(type(self), name):
                raise TypeError(f"{type(self).__name__}: the config dict lacks field {name!r}")
            value = values.get(name, getattr(type(self), name, None))
            setattr(self, name, float(value) if kind is float else value)


def rearrange_stand_in(tensor, pattern):
    """einops.rearrange for the pure axis permutations layers.py uses ('B S H D -> B H S D'), as a view."""
    source, target = (side.split() for side in pattern.split("->"))
    return tensor.permute(*(source.index(axis) for axis in target))


def sha256_of(path):
    try:
        with open(path, "rb") as f:
            return hashlib.sha256(f.read()).hexdigest()
    except OSError:
        return None


def import_reference(trm_dir):
    trm_dir = os.path.abspath(trm_dir)
    if not os.path.isfile(os.path.join(trm_dir, "models", "recursive_reasoning", "trm.py")):
        sys.exit(f"infer-bench: {trm_dir}/models/recursive_reasoning/trm.py not found; "
                 "run `bash scripts/official/fetch-reference.sh` and copy .ref/ along")
    notes = {"dir": trm_dir}
    for name, attribute, stand_in in (("pydantic", "BaseModel", ConfigStandIn),
                                      ("einops", "rearrange", rearrange_stand_in)):
        try:
            notes[name] = getattr(__import__(name), "__version__", "installed")
        except ImportError:
            sys.modules[name] = types.ModuleType(name)
            setattr(sys.modules[name], attribute, stand_in)
            notes[name] = "stand-in defined in infer-bench.py"
    try:
        with open(os.path.join(trm_dir, "REFERENCE.json")) as f:
            meta = json.load(f)
        notes.update(commit=meta["commit"], edited_or_missing=[
            path for path, digest in meta["files"].items() if sha256_of(os.path.join(trm_dir, path)) != digest])
    except (OSError, KeyError, ValueError) as error:
        notes["commit"] = f"unknown ({error})"
    sys.path.insert(0, trm_dir)
    from models.recursive_reasoning.trm import TinyRecursiveReasoningModel_ACTV1
    from models.losses import ACTLossHead
    return types.SimpleNamespace(ACT=TinyRecursiveReasoningModel_ACTV1, LossHead=ACTLossHead, notes=notes)


def swiglu_width(width, expansion):
    return -(-round(expansion * width * 2 / 3) // 256) * 256


def flops_per_puzzle_step(cfg):
    """See FLOP_FORMULA; elementwise work, norms and the tiny embedding gathers are left out."""
    S, D, V = cfg["seq_len"] + cfg["puzzle_emb_len"], cfg["hidden_size"], cfg["vocab_size"]
    block = 6 * S * D * swiglu_width(D, cfg["expansion"])
    block += 6 * D * S * swiglu_width(S, cfg["expansion"]) if cfg["mlp_t"] else 8 * S * D * D + 4 * S * S * D
    return cfg["H_cycles"] * (cfg["L_cycles"] + 1) * cfg["L_layers"] * block + 2 * S * D * V + 4 * D


def model_config(name, batch, args):
    cfg = dict(ARCHS[name], batch_size=batch, halt_max_steps=args.steps, forward_dtype=args.dtype)
    return dict(cfg, **TINY) if args.tiny else cfg  # batch_size only sizes the training-time puzzle_emb buffers


def random_batch(cfg, batch, seed, pin):
    g = torch.Generator().manual_seed(seed)
    tokens = lambda: torch.randint(1, cfg["vocab_size"], (batch, cfg["seq_len"]), generator=g, dtype=torch.int32)
    host = {"inputs": tokens(), "labels": tokens(), "puzzle_identifiers": torch.zeros(batch, dtype=torch.int32)}
    return {k: v.pin_memory() if pin else v for k, v in host.items()}  # the official DataLoader pins memory


def clone_tree(value):
    if isinstance(value, torch.Tensor):
        return value.clone()
    if isinstance(value, dict):
        return {k: clone_tree(v) for k, v in value.items()}
    if dataclasses.is_dataclass(value):
        return dataclasses.replace(value, **{f.name: clone_tree(getattr(value, f.name))
                                             for f in dataclasses.fields(value)})
    return value


def solve(model, host_batch, args, clone_carry):
    """One timed unit: the body of pretrain.evaluate's loop for one batch; returns the predictions on the host."""
    batch = {k: v.to(args.device) for k, v in host_batch.items()}
    with torch.device(args.device):
        carry = model.initial_carry(batch)
    for call in range(1, args.steps + 1):
        if args.loss_head:
            carry, _, _, outputs, all_finish = model(carry=carry, batch=batch, return_keys=["preds"])
            finished = bool(all_finish)  # pretrain.evaluate's `if all_finish:` reads this back every step
        else:
            carry, outputs = model(carry=carry, batch=batch)
            finished = call == args.steps
        if finished:
            break
        if clone_carry:
            carry = clone_tree(carry)
    if call != args.steps or (args.loss_head and not finished):
        raise RuntimeError(f"the model halted after {call} calls, expected exactly {args.steps}")
    preds = outputs["preds"] if args.loss_head else outputs["logits"].argmax(-1)
    return preds.cpu()


def sync(device):
    if device == "cuda":
        torch.cuda.synchronize()


def time_solves(model, host_batch, args, clone_carry):
    def once():
        sync(args.device)
        start = time.perf_counter()
        solve(model, host_batch, args, clone_carry)
        sync(args.device)
        return time.perf_counter() - start

    first = once()
    last = min([once() for _ in range(args.warmup - 1)], default=first)
    count = min(args.repeats, max(3, int(args.row_seconds / last)))
    return first, sorted(once() for _ in range(count))


def compile_counters():
    counters = torch._dynamo.utils.counters
    return {"graphs": counters["stats"]["unique_graphs"], "graph_breaks": sum(counters["graph_break"].values()),
            "cudagraph_skips": counters["inductor"]["cudagraph_skips"]}


def bench_row(ref, name, batch, mode, args):
    cfg = model_config(name, batch, args)
    row = {"model": name, "mode": mode, "torch_compile_mode": MODES[mode], "batch": batch, "steps": args.steps,
           "dtype": args.dtype}
    torch._dynamo.reset()  # fresh compile per row, shapes fixed; also drops earlier CUDA graph pools
    torch._dynamo.utils.counters.clear()
    if args.device == "cuda":
        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats()
    model = None
    try:
        torch.manual_seed(args.seed)
        with torch.device(args.device):  # pretrain.create_model builds under `with torch.device("cuda")`
            model = ref.ACT(cfg)
            if args.loss_head:
                model = ref.LossHead(model, loss_type="stablemax_cross_entropy")
        model.eval()
        if MODES[mode]:
            model = torch.compile(model, mode=MODES[mode], dynamic=False)
        host_batch = random_batch(cfg, batch, args.seed, pin=args.device == "cuda")
        with torch.inference_mode():
            first, times = time_solves(model, host_batch, args,
                                       clone_carry=mode in CUDA_GRAPH_MODES and args.device == "cuda")
        median = statistics.median(times)
        row.update(ms_median=1e3 * median, ms_p99=1e3 * times[math.ceil(0.99 * len(times)) - 1],
                   ms_min=1e3 * times[0], ms_max=1e3 * times[-1], repeats=len(times), first_solve_s=first,
                   puzzles_per_s=batch / median,
                   tflop_per_s=batch * args.steps * flops_per_puzzle_step(cfg) / median / 1e12)
        if MODES[mode]:
            row.update(compile_counters())
        if args.device == "cuda":
            row["peak_gib"] = torch.cuda.max_memory_allocated() / 2**30
    except Exception as error:  # out of memory or a torch.compile failure: report the row and go on
        text = f"{type(error).__name__}: {error}"
        oom = isinstance(error, torch.cuda.OutOfMemoryError) or "out of memory" in text.lower()
        row["error"] = ("out of memory: " if oom else "") + text.strip().splitlines()[0][:300]
        print(traceback.format_exc()[-3000:], file=sys.stderr, flush=True)
    del model
    gc.collect()
    if args.device == "cuda":
        torch.cuda.empty_cache()
    return row


def environment(args):
    env = {"date_utc": datetime.now(timezone.utc).isoformat(timespec="seconds"), "python": platform.python_version(),
           "torch": torch.__version__, "cuda": torch.version.cuda, "device": args.device,
           "command": " ".join([sys.executable, *sys.argv])}
    if args.device == "cuda":
        props = torch.cuda.get_device_properties(0)
        env.update(gpu=props.name, gpu_memory_gib=round(props.total_memory / 2**30, 1),
                   capability=f"{props.major}.{props.minor}", tf32_matmul=torch.backends.cuda.matmul.allow_tf32)
    else:
        env.update(cpu=platform.processor() or platform.machine(), threads=torch.get_num_threads())
    return env


COLUMNS = (("model", "model", "<10", "{}"), ("mode", "mode", "<12", "{}"), ("batch", "batch", ">6", "{}"),
           ("ms med", "ms_median", ">9", "{:.2f}"), ("ms p99", "ms_p99", ">9", "{:.2f}"),
           ("ms min", "ms_min", ">9", "{:.2f}"), ("puzzles/s", "puzzles_per_s", ">10", "{:.1f}"),
           ("TFLOP/s", "tflop_per_s", ">8", "{:.2f}"), ("1st s", "first_solve_s", ">7", "{:.1f}"))


def table_line(row):
    cells = [f"{(fmt.format(row[key]) if key in row else '-'):{align}}" for _, key, align, fmt in COLUMNS]
    return "  ".join(cells) + ("  " + (row.get("error") or row.get("skipped") or "")).rstrip()


def write_json(path, document):
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with open(path + ".partial", "w") as f:
        json.dump(document, f, indent=1)
    os.replace(path + ".partial", path)


def main(argv=None):
    args = parse_args(argv)
    started = time.perf_counter()
    global torch
    try:
        import torch
        import torch._dynamo
        import torch._dynamo.utils
    except ImportError as error:
        sys.exit(f"infer-bench: PyTorch is not installed here ({error}); run this on the GPU host")
    if args.device == "cuda" and not torch.cuda.is_available():
        sys.exit("infer-bench: --device cuda, but torch.cuda.is_available() is False (use --device cpu for a dry run)")
    ref = import_reference(args.trm)
    env = environment(args)
    where = env.get("gpu") or env.get("cpu")
    print(f"official TRM inference: {args.steps} supervision steps per solve, {args.dtype}, {where}, torch "
          f"{torch.__version__}, reference {ref.notes.get('commit', '?')[:7]}"
          f"{', loss head' if args.loss_head else ''}{', TINY models' if args.tiny else ''}", flush=True)
    print("  ".join(f"{title:{align}}" for title, _, align, _ in COLUMNS), flush=True)
    rows = []
    for name, batch, mode in args.rows:
        if args.deadline and time.perf_counter() - started > args.deadline:
            row = {"model": name, "mode": mode, "batch": batch, "skipped": f"--deadline {args.deadline:g} s passed"}
        else:
            row = bench_row(ref, name, batch, mode, args)
        rows.append(row)
        print(table_line(row), flush=True)
        if args.json:
            write_json(args.json, {
                "format": "trm-official-infer-bench/1", "environment": env, "reference": ref.notes,
                "settings": {k: getattr(args, k) for k in ("configs", "steps", "warmup", "repeats", "row_seconds",
                                                           "dtype", "loss_head", "tiny", "seed")},
                "modes": MODES, "archs": {n: model_config(n, None, args) for n in ARCHS},
                "flop_formula": FLOP_FORMULA, "timing": __doc__.split("\n\n")[1], "rows": rows})
    failed = sum("error" in r for r in rows)
    print(f"infer-bench: {len(rows)} rows ({failed} failed, {sum('skipped' in r for r in rows)} skipped) in "
          f"{time.perf_counter() - started:.0f} s{f'; JSON in {args.json}' if args.json else ''}", flush=True)


if __name__ == "__main__":
    main()
