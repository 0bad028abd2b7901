#!/usr/bin/env python3
"""Parity fixtures from the official TRM code, for the exporter's `import-official` test.

For two small random models built by the official PyTorch code (copied into .ref/ by fetch-reference.sh),
TRM-Att (attention + RoPE) and TRM-MLP (mlp_t, no positional encoding), this script
  1. writes the checkpoint exactly as the official trainer saves one: torch.save of the state_dict of the
     torch.compile-wrapped ACTLossHead (keys `_orig_mod.model.inner.*`, H_init/L_init in bfloat16), file `step_0`;
  2. loads that file back into a freshly built model the way the official loader does
     (torch.load + load_state_dict(assign=True)) and checks that every tensor survived bit for bit;
  3. runs the official evaluation loop (initial_carry, then one ACTLossHead call per supervision step) in eval
     mode, float32, TF32 off, over two scenarios, and records each call's inputs, reset rows, logits, q logits
     and loss, plus the final z_H/z_L, as .npy files;
  4. cross-checks the scenarios against each other, the float32 run against a float64 forward (and CUDA against
     CPU), and writes manifest.json + README.md.

Usage:  python3 scripts/official/make-fixtures.py --out DIR [--ref .ref] [--device auto|cuda|cpu] [--seed 0]
Needs Python >= 3.10, PyTorch >= 2.5 (the reference uses nn.Buffer), numpy and einops. pydantic is not needed:
the one class the reference takes from it is replaced by a small stand-in defined here. safetensors is optional.
Any failed check stops the run with a message and exit status 1; results appear in DIR only when all passed.
"""

import argparse
import contextlib
import hashlib
import importlib
import inspect
import json
import math
import os
import platform
import shutil
import sys
import time
import types
from datetime import datetime, timezone
from pathlib import Path

# cuBLAS is deterministic only with a fixed workspace, which must be chosen before CUDA starts.
os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")

import numpy as np  # noqa: E402
import torch  # noqa: E402

REPO_ROOT = Path(__file__).resolve().parents[2]
REFERENCE_REPOSITORY = "SamsungSAILMontreal/TinyRecursiveModels"
REFERENCE_COMMIT = "e7b68717f0a6c4cbb4ce6fbef787b14f42083bd9"
REFERENCE_FILES = (
    "models/recursive_reasoning/trm.py",
    "models/layers.py",
    "models/common.py",
    "models/sparse_embedding.py",
    "models/losses.py",
    "pretrain.py",
)
# torch.compile's wrapper (`_orig_mod.`) + ACTLossHead (`model.`) + the ACT wrapper (`inner.`).
KEY_PREFIX = "_orig_mod.model.inner."
IGNORE_LABEL_ID = -100
FORMAT = "trm-official-parity-fixtures/1"

# The official config dict, as pretrain.create_model assembles it (arch fields + data fields + causal=False).
BASE_CONFIG = {
    "batch_size": 4,
    "seq_len": 81,
    "vocab_size": 11,
    "num_puzzle_identifiers": 3,
    "puzzle_emb_ndim": 64,
    "puzzle_emb_len": 16,
    "hidden_size": 64,
    "num_heads": 4,
    "expansion": 4.0,
    "H_cycles": 2,
    "L_cycles": 2,
    "H_layers": 0,
    "L_layers": 2,
    "rms_norm_eps": 1e-5,
    "rope_theta": 10000.0,
    "halt_max_steps": 16,
    "halt_exploration_prob": 0.1,
    "no_ACT_continue": True,
    "forward_dtype": "float32",
    "causal": False,
}
VARIANTS = {
    "att": {"pos_encodings": "rope", "mlp_t": False},
    "mlp": {"pos_encodings": "none", "mlp_t": True},
}
LOSS_TYPE = "stablemax_cross_entropy"
RETURN_KEYS = ["logits", "q_halt_logits", "q_continue_logits", "preds"]
PUZZLE_IDS_A = [2, 0, 1, 2]
PUZZLE_IDS_B = [1, 1, 2, 0]
# Scenario "reset": rows 1 and 2 are forced to halt before call 7 (0-based 6), so they restart from H_init/L_init
# on batch B while rows 0 and 3 carry on; those two then halt after their 16th step and restart on batch B at
# call 17 (0-based 16). 20 calls in all.
RESET_CALLS = 20
RESET_SWITCH_CALL = 6
RESET_FORCED_ROWS = [1, 2]
# Scale of the shared net's weights relative to the reference's initialisation (see prepare_weights).
RECURRENT_WEIGHT_GAIN = 0.5
# float32 outputs against a float64 forward of the same weights: past this, another float32 implementation could
# not reproduce the fixtures step for step, so they are refused.
PRECISION_DRIFT_FAIL = 1e-3
# Rows computed from the same state and data in the same batch shape must agree to rounding noise.
SAME_DEVICE_TOLERANCE = 1e-5
# CUDA vs CPU, float32 without TF32: a larger difference is reported (TF32 would give about 1e-3).
CROSS_DEVICE_WARN = 1e-4


class FixtureError(Exception):
    """A check failed: the fixtures would be wrong, so nothing is kept."""


def check(condition, message):
    if not condition:
        raise FixtureError(message)


# ---------------------------------------------------------------------------------------------------------------
# pydantic stand-in: the reference's config class only needs typed fields with defaults, checked at construction.
# Unknown keys are ignored, as pydantic's default (extra='ignore') does with the `causal` key pretrain.py passes.


def _coerce_field(owner, name, annotation, value):
    is_bool = isinstance(value, bool)
    if annotation is bool and is_bool:
        return value
    if annotation is int and isinstance(value, int) and not is_bool:
        return value
    if annotation is float and isinstance(value, (int, float)) and not is_bool:
        return float(value)
    if annotation is str and isinstance(value, str):
        return value
    if annotation not in (bool, int, float, str):
        raise FixtureError(f"pydantic stand-in: {owner}.{name} has annotation {annotation!r}, expected bool/int/float/str")
    raise FixtureError(f"pydantic stand-in: {owner}.{name} = {value!r}, expected a {annotation.__name__}")


class StandInBaseModel:
    def __init__(self, **data):
        owner = type(self).__name__
        fields = {}
        for klass in reversed(type(self).__mro__):
            fields.update(inspect.get_annotations(klass))
        for name, annotation in fields.items():
            if name in data:
                value = _coerce_field(owner, name, annotation, data[name])
            elif hasattr(type(self), name):
                value = getattr(type(self), name)
            else:
                raise FixtureError(f"pydantic stand-in: {owner} needs field {name!r}, which the config dict lacks")
            setattr(self, name, value)
        self.ignored_keys = sorted(set(data) - set(fields))


@contextlib.contextmanager
def pydantic_stand_in():
    saved = sys.modules.get("pydantic")
    module = types.ModuleType("pydantic")
    module.BaseModel = StandInBaseModel
    sys.modules["pydantic"] = module
    try:
        yield
    finally:
        if saved is None:
            sys.modules.pop("pydantic", None)
        else:
            sys.modules["pydantic"] = saved


# ---------------------------------------------------------------------------------------------------------------
# The reference code


def sha256_of(path):
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def load_reference(ref_dir):
    ref_dir = Path(ref_dir).resolve()
    check(
        hasattr(torch.nn, "Buffer"),
        f"PyTorch {torch.__version__} has no torch.nn.Buffer; the reference code needs PyTorch >= 2.5",
    )
    try:
        importlib.import_module("einops")
    except ImportError as error:
        raise FixtureError(f"the reference code imports einops, which is missing: {error}") from error

    meta_path = ref_dir / "REFERENCE.json"
    check(meta_path.is_file(), f"{meta_path} not found: run `bash scripts/official/fetch-reference.sh` first")
    meta = json.loads(meta_path.read_text())
    check(
        meta.get("commit") == REFERENCE_COMMIT,
        f"{meta_path}: commit {meta.get('commit')!r}, expected {REFERENCE_COMMIT}",
    )
    for path in REFERENCE_FILES:
        file = ref_dir / path
        check(file.is_file(), f"reference file {file} missing: run fetch-reference.sh again")
        expected = meta.get("files", {}).get(path)
        actual = sha256_of(file)
        check(actual == expected, f"reference file {file}: sha256 {actual}, expected {expected} (edited or stale?)")

    check("models" not in sys.modules, "a module named 'models' was imported before the reference code")
    sys.path.insert(0, str(ref_dir))
    with pydantic_stand_in():
        trm = importlib.import_module("models.recursive_reasoning.trm")
        losses = importlib.import_module("models.losses")
        layers = importlib.import_module("models.layers")
    for module in (trm, losses, layers):
        origin = Path(module.__file__).resolve()
        check(ref_dir in origin.parents, f"module {module.__name__} came from {origin}, expected a file under {ref_dir}")
    keep_attention_output_viewable(layers)
    return types.SimpleNamespace(trm=trm, losses=losses, meta=meta)


ATTENTION_LAYOUT_NOTE = (
    "models.layers.Attention reshapes the attention output with .view, which works only when "
    "scaled_dot_product_attention returns it in [B, S, H, D] memory order (PyTorch 2.x's CPU and fused CUDA "
    "kernels keep that order of their inputs; a kernel returning contiguous [B, H, S, D] makes the .view fail). "
    "The output is put into [B, S, H, D] order before the .view (no copy when it already is); values are unchanged."
)


def keep_attention_output_viewable(layers):
    """The reference at this commit calls .view on the transposed attention output (a later upstream change made
    it .reshape). [B, S, H, D] memory order keeps every value and lets .view work whichever kernel runs."""
    original = layers.scaled_dot_product_attention

    def attention_in_viewable_layout(*args, **kwargs):
        return original(*args, **kwargs).transpose(1, 2).contiguous().transpose(1, 2)

    layers.scaled_dot_product_attention = attention_in_viewable_layout


# ---------------------------------------------------------------------------------------------------------------
# Model construction, checkpoint, loading


def ceil_to_multiple(value, multiple):
    return -(-value // multiple) * multiple


def swiglu_intermediate(hidden, expansion):
    return ceil_to_multiple(round(expansion * hidden * 2 / 3), 256)


def derived_sizes(config):
    prefix = config["puzzle_emb_len"] or -(-config["puzzle_emb_ndim"] // config["hidden_size"])
    state_len = config["seq_len"] + prefix
    return {
        "puzzle_emb_len": prefix,
        "state_len": state_len,
        "head_dim": config["hidden_size"] // config["num_heads"],
        "channel_intermediate": swiglu_intermediate(config["hidden_size"], config["expansion"]),
        "sequence_intermediate": swiglu_intermediate(state_len, config["expansion"]) if config["mlp_t"] else None,
    }


def expected_tensors(config):
    """The tensors a checkpoint of this config holds (TRM-SPEC §8), written out independently of the model code."""
    d, v = config["hidden_size"], config["vocab_size"]
    sizes = derived_sizes(config)
    f32, bf16 = "float32", "bfloat16"
    tensors = {
        "H_init": ([d], bf16),
        "L_init": ([d], bf16),
        "embed_tokens.embedding_weight": ([v, d], f32),
        "lm_head.weight": ([v, d], f32),
        "q_head.weight": ([2, d], f32),
        "q_head.bias": ([2], f32),
        "puzzle_emb.weights": ([config["num_puzzle_identifiers"], config["puzzle_emb_ndim"]], f32),
    }
    if config["pos_encodings"] == "learned":
        tensors["embed_pos.embedding_weight"] = ([sizes["state_len"], d], f32)
    for layer in range(config["L_layers"]):
        base = f"L_level.layers.{layer}."
        if config["mlp_t"]:
            n, i = sizes["state_len"], sizes["sequence_intermediate"]
            tensors[base + "mlp_t.gate_up_proj.weight"] = ([2 * i, n], f32)
            tensors[base + "mlp_t.down_proj.weight"] = ([n, i], f32)
        else:
            tensors[base + "self_attn.qkv_proj.weight"] = ([3 * d, d], f32)
            tensors[base + "self_attn.o_proj.weight"] = ([d, d], f32)
        i = sizes["channel_intermediate"]
        tensors[base + "mlp.gate_up_proj.weight"] = ([2 * i, d], f32)
        tensors[base + "mlp.down_proj.weight"] = ([d, i], f32)
    return tensors


def dtype_name(tensor):
    return str(tensor.dtype).removeprefix("torch.")


class OrigModHolder(torch.nn.Module):
    """Stands in for torch.compile's wrapper where that is unavailable: it only holds the model as `_orig_mod`."""

    def __init__(self, module):
        super().__init__()
        self._orig_mod = module


def wrap_like_trainer(head):
    """torch.compile(model) as pretrain.py does. It only builds the wrapper, which holds the model as `_orig_mod`:
    nothing is compiled until the wrapper is called, and it never is here (the fixtures run the eager module)."""
    try:
        wrapped, source = torch.compile(head), "torch.compile"
    except Exception as error:  # noqa: BLE001 - any failure means: build the same key layout by hand
        wrapped, source = OrigModHolder(head), f"constructed (torch.compile failed: {type(error).__name__}: {error})"
    keys = list(wrapped.state_dict().keys())
    if not all(key.startswith(KEY_PREFIX) for key in keys):
        wrapped = OrigModHolder(head)
        source = f"constructed (torch.compile's state_dict keys lacked the prefix, e.g. {keys[0]!r})"
        keys = list(wrapped.state_dict().keys())
    check(all(key.startswith(KEY_PREFIX) for key in keys), f"state_dict keys lack {KEY_PREFIX!r}: {keys[:3]}")
    return wrapped, source


def build_head(reference, config, seed, device):
    torch.manual_seed(seed)
    model = reference.trm.TinyRecursiveReasoningModel_ACTV1(dict(config))
    parsed = model.config
    for key, value in config.items():
        if key == "causal":
            continue
        check(getattr(parsed, key) == value, f"config field {key}: parsed {getattr(parsed, key)!r}, passed {value!r}")
    check(parsed.ignored_keys == ["causal"], f"config keys ignored by the config class: {parsed.ignored_keys}")
    head = reference.losses.ACTLossHead(model, loss_type=LOSS_TYPE)
    return head.to(device)


def prepare_weights(head, seed):
    """Random weights on which every tensor matters and whose recursion is stable enough to be reproduced.

    The reference starts q_head at weight 0 / bias -5 and the puzzle table at 0: those get random values. The
    shared net's weights (L_level) keep the reference's random initialisation scaled by RECURRENT_WEIGHT_GAIN:
    at the plain initialisation the mlp_t model is chaotic, float32 rounding differences growing about 5x per
    supervision step (1e-5 after call 1, O(1) by call 8, measured against a float64 forward), so no other float32
    implementation could match 16 steps. At half the weights both variants stay within about 1e-5 of the float64
    forward over all steps, while their logits still move by several units from call 1 to call 16."""
    inner = head.model.inner
    generator = torch.Generator().manual_seed(seed)
    hidden = inner.q_head.weight.shape[1]
    with torch.no_grad():
        for parameter in inner.L_level.parameters():
            parameter.mul_(RECURRENT_WEIGHT_GAIN)
        inner.q_head.weight.copy_(torch.randn(inner.q_head.weight.shape, generator=generator) / math.sqrt(hidden))
        inner.q_head.bias.copy_(torch.rand(inner.q_head.bias.shape, generator=generator) * 2 - 1)
        table = inner.puzzle_emb.weights
        table.copy_(torch.randn(table.shape, generator=generator) / math.sqrt(table.shape[1]))


def checkpoint_state(wrapped, config):
    """The trainer's state_dict (an OrderedDict with its `_metadata`, as torch.save writes it), with H_init/L_init
    in bfloat16 as the published configs (forward_dtype bfloat16) store them."""
    state = wrapped.state_dict()
    for name in ("H_init", "L_init"):
        state[KEY_PREFIX + name] = state[KEY_PREFIX + name].to(torch.bfloat16)
    expected = expected_tensors(config)
    names = sorted(key[len(KEY_PREFIX) :] for key in state)
    check(names == sorted(expected), f"checkpoint tensors {names}, expected {sorted(expected)}")
    for name, (shape, dtype) in expected.items():
        tensor = state[KEY_PREFIX + name]
        check(list(tensor.shape) == shape, f"{name}: shape {list(tensor.shape)}, expected {shape}")
        check(dtype_name(tensor) == dtype, f"{name}: dtype {dtype_name(tensor)}, expected {dtype}")
        values = tensor.float()
        check(bool(torch.isfinite(values).all()), f"{name}: non-finite values")
        check(values.numel() < 2 or float(values.std()) > 1e-3, f"{name}: (almost) constant, std {float(values.std())}")
    return state


def load_like_trainer(reference, config, path, seed, device):
    """A fresh model (other random weights), then pretrain.load_checkpoint's steps: torch.load and
    load_state_dict(assign=True) on the compiled wrapper."""
    wrapped, _ = wrap_like_trainer(build_head(reference, config, seed, device))
    state = torch.load(path, map_location=device, weights_only=True)
    wrapped.load_state_dict(state, assign=True)
    return wrapped, state


def assert_same_state(wrapped, saved, label):
    loaded = wrapped.state_dict()
    check(sorted(loaded) == sorted(saved), f"{label}: loaded keys differ from the saved ones")
    for key, tensor in saved.items():
        other = loaded[key]
        check(other.dtype == tensor.dtype, f"{label}: {key} loaded as {other.dtype}, saved as {tensor.dtype}")
        check(torch.equal(other.cpu(), tensor.cpu()), f"{label}: {key} differs after the round trip")


# ---------------------------------------------------------------------------------------------------------------
# Data


def sudoku_solutions(rng, count):
    """Valid solved grids (values 0-8): a base pattern under random digit, band, row, stack and column shuffles."""
    base = np.array([[(3 * (r % 3) + r // 3 + c) % 9 for c in range(9)] for r in range(9)])
    grids = []
    for _ in range(count):
        rows = np.concatenate([band * 3 + rng.permutation(3) for band in rng.permutation(3)])
        cols = np.concatenate([stack * 3 + rng.permutation(3) for stack in rng.permutation(3)])
        grid = rng.permutation(9)[base[rows][:, cols]]
        for k in range(9):
            check(len(set(grid[k])) == 9 and len(set(grid[:, k])) == 9, "generated sudoku is not valid")
            box = grid[3 * (k // 3) : 3 * (k // 3) + 3, 3 * (k % 3) : 3 * (k % 3) + 3]
            check(len(set(box.ravel())) == 9, "generated sudoku is not valid")
        grids.append(grid.reshape(81))
    return np.stack(grids)


def sudoku_batch(rng, puzzle_ids, blank_fraction, ignored_cells=None):
    """Tokens as the reference's sudoku builder writes them: blank 1, digit d -> d + 1; labels are the solution.
    `ignored_cells` (row, cells) sets those labels to IGNORE_LABEL_ID, to cover the loss mask."""
    solutions = sudoku_solutions(rng, len(puzzle_ids)) + 2
    blanks = rng.random(solutions.shape) < blank_fraction
    inputs = np.where(blanks, 1, solutions)
    labels = solutions.copy()
    if ignored_cells is not None:
        row, cells = ignored_cells
        labels[row, cells] = IGNORE_LABEL_ID
    return {
        "inputs": inputs.astype(np.int32),
        "labels": labels.astype(np.int32),
        "puzzle_identifiers": np.array(puzzle_ids, dtype=np.int32),
    }


def to_torch(batch, device):
    return {key: torch.from_numpy(value).to(device) for key, value in batch.items()}


# ---------------------------------------------------------------------------------------------------------------
# Running the official loop


def device_scope(device):
    """pretrain.py creates the carry under `with torch.device(...)`; the carry's tensors take that default device."""
    if hasattr(torch.device, "__enter__"):
        return torch.device(device)
    check(device == "cpu", f"this PyTorch cannot set a default device, needed for {device}")
    return contextlib.nullcontext()


def run_calls(head, batches, forced_resets, dtype=torch.float32):
    """One ACTLossHead call per supervision step, as pretrain.evaluate drives it. `batches[i]` is the batch offered at
    call i (rows that are not halted ignore it); `forced_resets[i]` lists rows whose halted flag is set before call
    i, which makes the reference restart them from H_init/L_init on the offered batch's row."""
    calls = []
    device = next(head.parameters()).device
    with torch.inference_mode(), device_scope(str(device)):
        carry = head.initial_carry(batches[0])
        first_state = None
        for index, batch in enumerate(batches):
            rows = forced_resets.get(index)
            if rows:
                forced = torch.zeros_like(carry.halted)
                forced[rows] = True
                carry.halted = carry.halted | forced
            reset = carry.halted.clone()
            carry, loss, metrics, outputs, all_finish = head(carry=carry, batch=batch, return_keys=RETURN_KEYS)
            if first_state is None:
                first_state = (carry.inner_carry.z_H.clone(), carry.inner_carry.z_L.clone())
            for key in ("logits", "q_halt_logits", "q_continue_logits"):
                expected = dtype if key == "logits" else torch.float32
                check(outputs[key].dtype == expected, f"call {index}: {key} is {outputs[key].dtype}, expected {expected}")
            calls.append(
                {
                    "reset": reset.cpu().numpy(),
                    "inputs": carry.current_data["inputs"].cpu().numpy(),
                    "labels": carry.current_data["labels"].cpu().numpy(),
                    "puzzle_identifiers": carry.current_data["puzzle_identifiers"].cpu().numpy(),
                    "steps": carry.steps.cpu().numpy(),
                    "halted": carry.halted.cpu().numpy(),
                    "logits": outputs["logits"].cpu().numpy(),
                    "q_halt_logits": outputs["q_halt_logits"].cpu().numpy(),
                    "q_continue_logits": outputs["q_continue_logits"].cpu().numpy(),
                    "loss": float(loss),
                    "metrics": {key: float(value) for key, value in sorted(metrics.items())},
                    "all_finish": bool(all_finish),
                }
            )
        z_h, z_l = carry.inner_carry.z_H, carry.inner_carry.z_L
        check(z_h.dtype == dtype and z_l.dtype == dtype, f"carry is {z_h.dtype}, expected {dtype}")
        return {
            "calls": calls,
            "z_H": z_h.cpu().numpy(),
            "z_L": z_l.cpu().numpy(),
            "z_H_first": first_state[0].cpu().numpy(),
            "z_L_first": first_state[1].cpu().numpy(),
        }


def stack(trace, key):
    return np.stack([call[key] for call in trace["calls"]])


def scenario_batches(batch_a, batch_b, name):
    if name == "eval":
        return [batch_a] * 16, {}
    return [batch_a] * RESET_SWITCH_CALL + [batch_b] * (RESET_CALLS - RESET_SWITCH_CALL), {
        RESET_SWITCH_CALL: RESET_FORCED_ROWS
    }


def check_halting(trace, name, label, halt_max_steps):
    """Eval mode never halts early: a row halts exactly after its halt_max_steps-th step."""
    reset, steps, halted = stack(trace, "reset"), stack(trace, "steps"), stack(trace, "halted")
    batch = reset.shape[1]
    expected_reset = np.zeros_like(reset)
    expected_reset[0] = True
    if name == "reset":
        expected_reset[RESET_SWITCH_CALL, RESET_FORCED_ROWS] = True
        others = [row for row in range(batch) if row not in RESET_FORCED_ROWS]
        expected_reset[halt_max_steps, others] = True
    check(np.array_equal(reset, expected_reset), f"{label}: reset rows per call {reset.astype(int).tolist()}")
    expected_steps = np.zeros_like(steps)
    for row in range(batch):
        count = 0
        for call in range(len(steps)):
            count = 1 if expected_reset[call, row] else count + 1
            expected_steps[call, row] = count
    check(np.array_equal(steps, expected_steps), f"{label}: step counters {steps.tolist()}")
    check(np.array_equal(halted, steps >= halt_max_steps), f"{label}: halted flags {halted.astype(int).tolist()}")
    finish = [call["all_finish"] for call in trace["calls"]]
    check(finish == [bool(row.all()) for row in halted], f"{label}: all_finish flags {finish}")


def check_outputs(trace, name):
    logits, q_halt = stack(trace, "logits"), stack(trace, "q_halt_logits")
    for key, value in (("logits", logits), ("q_halt_logits", q_halt), ("z_H", trace["z_H"]), ("z_L", trace["z_L"])):
        check(bool(np.isfinite(value).all()), f"{name}: non-finite {key}")
    check(float(np.abs(logits[-1] - logits[0]).max()) > 1e-3, f"{name}: logits do not change over the steps")
    check(float(q_halt.std()) > 1e-3, f"{name}: q_halt_logits are (almost) constant")


def max_abs_diff(a, b):
    return float(np.abs(np.asarray(a, dtype=np.float64) - np.asarray(b, dtype=np.float64)).max())


def cross_check_scenarios(eval_trace, reset_trace, fresh_b, halt_max_steps):
    """The reset scenario recomputes pieces of the other runs: its first calls are the eval run's, and each row
    restarted on batch B must reproduce a fresh batch-B run of that row, step by step."""
    logits_eval, logits_reset, logits_b = (stack(t, "logits") for t in (eval_trace, reset_trace, fresh_b))
    q_eval, q_reset, q_b = (stack(t, "q_halt_logits") for t in (eval_trace, reset_trace, fresh_b))
    diffs = {
        "reset_vs_eval_before_switch": max(
            max_abs_diff(logits_reset[:RESET_SWITCH_CALL], logits_eval[:RESET_SWITCH_CALL]),
            max_abs_diff(q_reset[:RESET_SWITCH_CALL], q_eval[:RESET_SWITCH_CALL]),
        )
    }
    forced = RESET_FORCED_ROWS
    span = RESET_CALLS - RESET_SWITCH_CALL
    diffs["forced_rows_vs_fresh_b"] = max(
        max_abs_diff(logits_reset[RESET_SWITCH_CALL:, forced], logits_b[:span, forced]),
        max_abs_diff(q_reset[RESET_SWITCH_CALL:, forced], q_b[:span, forced]),
    )
    others = [row for row in range(logits_reset.shape[1]) if row not in forced]
    span = RESET_CALLS - halt_max_steps
    diffs["halted_rows_vs_fresh_b"] = max(
        max_abs_diff(logits_reset[halt_max_steps:, others], logits_b[:span, others]),
        max_abs_diff(q_reset[halt_max_steps:, others], q_b[:span, others]),
    )
    for key, value in diffs.items():
        check(value <= SAME_DEVICE_TOLERANCE, f"cross-check {key}: max |diff| {value:.3g} > {SAME_DEVICE_TOLERANCE}")
    return diffs


def compare_devices(device_trace, cpu_trace):
    """CUDA against CPU, both float32. Recorded, not enforced: both are outputs of the official code, and how far
    they drift over the steps is what a float32 parity test elsewhere must allow for too."""
    logits_dev, logits_cpu = stack(device_trace, "logits"), stack(cpu_trace, "logits")
    per_call = [max_abs_diff(a, b) for a, b in zip(logits_dev, logits_cpu)]
    result = {
        "logits_max_abs_diff": max(per_call),
        "logits_max_abs_diff_per_call": per_call,
        "q_halt_max_abs_diff": max_abs_diff(stack(device_trace, "q_halt_logits"), stack(cpu_trace, "q_halt_logits")),
        "z_H_max_abs_diff": max_abs_diff(device_trace["z_H"], cpu_trace["z_H"]),
        "argmax_agreement": float((logits_dev.argmax(-1) == logits_cpu.argmax(-1)).mean()),
    }
    if result["logits_max_abs_diff"] > CROSS_DEVICE_WARN:
        print(f"make-fixtures: WARNING: CUDA and CPU logits differ by up to {result['logits_max_abs_diff']:.3g}")
    return result


def compare_precision(variant, trace, precise):
    """The float32 run against a float64 forward of the same checkpoint (the reference still computes RMSNorm and
    RoPE in float32 there). A drift that grows over the steps means the recursion amplifies rounding: then no other
    float32 implementation could reproduce the later steps, and the fixtures are refused."""
    logits, logits_precise = stack(trace, "logits"), stack(precise, "logits")
    per_call = [max_abs_diff(a, b) for a, b in zip(logits, logits_precise)]
    result = {
        "logits_max_abs_diff": max(per_call),
        "logits_max_abs_diff_per_call": per_call,
        "q_halt_max_abs_diff": max_abs_diff(stack(trace, "q_halt_logits"), stack(precise, "q_halt_logits")),
        "z_H_max_abs_diff": max_abs_diff(trace["z_H"], precise["z_H"]),
    }
    check(
        result["logits_max_abs_diff"] <= PRECISION_DRIFT_FAIL,
        f"{variant}: float32 logits drift from the float64 forward by up to {result['logits_max_abs_diff']:.3g} "
        f"(> {PRECISION_DRIFT_FAIL}; per call {[f'{d:.1e}' for d in per_call]}): the recursion amplifies rounding",
    )
    return result


# ---------------------------------------------------------------------------------------------------------------
# Writing


class FixtureWriter:
    """Writes files under a staging folder and records shape, dtype, size and sha256 of each for the manifest."""

    def __init__(self, root):
        self.root = root
        self.files = {}

    def record(self, relative, extra=None):
        path = self.root / relative
        self.files[relative] = {**(extra or {}), "bytes": path.stat().st_size, "sha256": sha256_of(path)}

    def npy(self, relative, array):
        array = np.ascontiguousarray(array)
        path = self.root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        np.save(path, array, allow_pickle=False)
        self.record(relative, {"shape": list(array.shape), "dtype": str(array.dtype)})
        return relative


def write_scenario(writer, variant, name, trace):
    prefix = f"{variant}/{name}/"
    files = {}
    for key in ("inputs", "labels", "puzzle_identifiers", "reset", "steps", "halted"):
        files[key] = writer.npy(prefix + key + ".npy", stack(trace, key))
    for key in ("logits", "q_halt_logits", "q_continue_logits"):
        files[key] = writer.npy(prefix + key + ".npy", stack(trace, key).astype(np.float32))
    files["loss"] = writer.npy(prefix + "loss.npy", np.array([call["loss"] for call in trace["calls"]]))
    # The state after the first call is the same in both scenarios (same carry, same batch): kept once.
    for key in ("z_H", "z_L") + (("z_H_first", "z_L_first") if name == "eval" else ()):
        files[key] = writer.npy(prefix + key + ".npy", trace[key].astype(np.float32))
    return files


def write_safetensors(writer, variant, state):
    """Only where the safetensors package is installed: the weights as import-official should write them
    (reference names without the prefix, everything float32)."""
    try:
        from safetensors.torch import save_file
    except ImportError:
        return None
    relative = f"{variant}/weights-fp32.safetensors"
    tensors = {key[len(KEY_PREFIX) :]: value.detach().float().cpu().contiguous() for key, value in state.items()}
    save_file(tensors, str(writer.root / relative))
    writer.record(relative)
    return relative


SCENARIO_TEXT = {
    "eval": "Batch A for 16 calls from a fresh carry: the official evaluation (every row halts after call 16).",
    "reset": (
        f"One carry over {RESET_CALLS} calls: batch A for calls 1-{RESET_SWITCH_CALL}, batch B from call "
        f"{RESET_SWITCH_CALL + 1}. Rows {RESET_FORCED_ROWS} are forced to halt before call {RESET_SWITCH_CALL + 1} "
        "and restart on batch B; the other rows halt after their 16th step and restart on batch B at call 17."
    ),
}

FILE_TEXT = {
    "inputs": "int32 [calls, B, seq_len]: the tokens each row used at each call (carry.current_data)",
    "labels": "int32 [calls, B, seq_len]: the labels each row used (-100 = ignored)",
    "puzzle_identifiers": "int32 [calls, B]: the puzzle id each row used",
    "reset": "bool [calls, B]: rows restarted from H_init/L_init at that call (carry.halted before the call)",
    "steps": "int32 [calls, B]: each row's step counter after the call",
    "halted": "bool [calls, B]: each row's halted flag after the call",
    "logits": "float32 [calls, B, seq_len, vocab]: lm_head logits (puzzle prefix dropped)",
    "q_halt_logits": "float32 [calls, B]",
    "q_continue_logits": "float32 [calls, B]",
    "loss": "float64 [calls]: ACTLossHead's loss, summed over the batch (lm_loss + 0.5 * q_halt_loss)",
    "z_H": "float32 [B, state_len, hidden]: carry z_H after the last call",
    "z_L": "float32 [B, state_len, hidden]: carry z_L after the last call",
    "z_H_first": "float32 [B, state_len, hidden]: carry z_H after the first call (scenario eval only)",
    "z_L_first": "float32 [B, state_len, hidden]: carry z_L after the first call (scenario eval only)",
}


def model_config_for_us(config):
    """The same model in the field names of @trm/core's ModelConfig (the reference's names plus task and loss)."""
    ours = {key: value for key, value in config.items() if key != "causal"}
    return {"task": "sudoku", **ours, "loss_type": LOSS_TYPE}


def readme_text(manifest):
    lines = [
        "# Official-checkpoint parity fixtures",
        "",
        f"Made by `scripts/official/make-fixtures.py` from {REFERENCE_REPOSITORY} at {REFERENCE_COMMIT[:7]} with "
        f"PyTorch {manifest['produced']['torch']} on {manifest['produced']['device_name']}. "
        "manifest.json has the configs, seeds, checks and a sha256 per file.",
        "",
        "Per variant (`att`: attention + RoPE; `mlp`: mlp_t, no positional encoding):",
        "- `step_0`: the checkpoint as the official trainer writes it (torch.save of the compiled ACTLossHead's "
        "state_dict; keys `_orig_mod.model.inner.*`; H_init/L_init bfloat16, the rest float32).",
        "- `weights-fp32.safetensors` (when present): the same weights as import-official should write them.",
        "- `<scenario>/*.npy`: the official eval loop, float32, one entry per call (= supervision step).",
        "",
        "Scenarios:",
    ]
    lines += [f"- `{name}`: {text}" for name, text in SCENARIO_TEXT.items()]
    lines += ["", "Files of a scenario:"]
    lines += [f"- `{name}.npy`: {text}" for name, text in FILE_TEXT.items()]
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------------------------------------------------------


def configure_numerics(device):
    settings = {}
    if device.startswith("cuda"):
        torch.backends.cuda.matmul.allow_tf32 = False
        torch.backends.cudnn.allow_tf32 = False
        settings["cuda.matmul.allow_tf32"] = torch.backends.cuda.matmul.allow_tf32
        settings["cudnn.allow_tf32"] = torch.backends.cudnn.allow_tf32
        check(not settings["cuda.matmul.allow_tf32"], "could not turn TF32 matmuls off")
    torch.use_deterministic_algorithms(True, warn_only=True)
    settings["deterministic_algorithms"] = "on (warn only)"
    return settings


def make_variant(reference, variant, switches, index, args, device, writer, batches):
    config = {**BASE_CONFIG, **switches}
    seed = args.seed * 1000 + 10 * index
    timings = {}

    started = time.perf_counter()
    head = build_head(reference, config, seed + 1, device)
    prepare_weights(head, seed + 2)
    wrapped, key_source = wrap_like_trainer(head)
    state = checkpoint_state(wrapped, config)
    checkpoint = f"{variant}/step_0"
    (writer.root / variant).mkdir(parents=True, exist_ok=True)
    torch.save(state, writer.root / checkpoint)
    writer.record(checkpoint)
    safetensors_file = write_safetensors(writer, variant, state)
    timings["build_and_save_s"] = time.perf_counter() - started

    started = time.perf_counter()
    loaded, saved = load_like_trainer(reference, config, writer.root / checkpoint, seed + 3, device)
    assert_same_state(loaded, state, f"{variant} on {device}")
    head = loaded._orig_mod
    head.eval()
    batch_a, batch_b = (to_torch(batch, device) for batch in batches)
    traces = {}
    for name in ("eval", "reset"):
        offered, forced = scenario_batches(batch_a, batch_b, name)
        traces[name] = run_calls(head, offered, forced)
        check_halting(traces[name], name, f"{variant}/{name}", config["halt_max_steps"])
        check_outputs(traces[name], f"{variant}/{name}")
    fresh_b = run_calls(head, [batch_b] * 16, {})
    cross = cross_check_scenarios(traces["eval"], traces["reset"], fresh_b, config["halt_max_steps"])
    timings["run_s"] = time.perf_counter() - started

    devices = None
    if device != "cpu":
        started = time.perf_counter()
        on_cpu, _ = load_like_trainer(reference, config, writer.root / checkpoint, seed + 4, "cpu")
        assert_same_state(on_cpu, state, f"{variant} on cpu")
        cpu_head = on_cpu._orig_mod
        cpu_head.eval()
        cpu_trace = run_calls(cpu_head, [to_torch(batches[0], "cpu")] * 16, {})
        devices = compare_devices(traces["eval"], cpu_trace)
        timings["cpu_check_s"] = time.perf_counter() - started

    started = time.perf_counter()
    precise_config = {**config, "forward_dtype": "float64"}
    on_cpu, _ = load_like_trainer(reference, precise_config, writer.root / checkpoint, seed + 5, "cpu")
    precise_head = on_cpu._orig_mod
    precise_head.eval()
    precise_trace = run_calls(precise_head, [to_torch(batches[0], "cpu")] * 16, {}, dtype=torch.float64)
    precision = compare_precision(variant, traces["eval"], precise_trace)
    timings["float64_check_s"] = time.perf_counter() - started

    scenarios = {}
    for name, trace in traces.items():
        scenarios[name] = {
            "description": SCENARIO_TEXT[name],
            "calls": len(trace["calls"]),
            "files": write_scenario(writer, variant, name, trace),
            "metrics_per_call": [call["metrics"] for call in trace["calls"]],
        }
    tensors = {
        key[len(KEY_PREFIX) :]: {"shape": list(value.shape), "dtype": dtype_name(value)} for key, value in saved.items()
    }
    summary = {
        "variant": variant,
        "eval": traces["eval"],
        "reset": traces["reset"],
        "cross": cross,
        "devices": devices,
        "precision": precision,
        "bytes": sum(entry["bytes"] for key, entry in writer.files.items() if key.startswith(variant + "/")),
    }
    return {
        "official_config": config,
        "model_config": model_config_for_us(config),
        "derived": derived_sizes(config),
        "seeds": {"init": seed + 1, "weights": seed + 2, "reload_init": seed + 3},
        "weights": (
            f"the reference's initialisation with the L_level weights scaled by {RECURRENT_WEIGHT_GAIN}; "
            "q_head.weight ~ N(0, 1/hidden), q_head.bias ~ U(-1, 1), puzzle_emb.weights ~ N(0, 1/ndim)"
        ),
        "checkpoint": {
            "file": checkpoint,
            "key_prefix": KEY_PREFIX,
            "key_prefix_source": key_source,
            "saved_from_device": str(next(head.parameters()).device),
            "tensors": tensors,
        },
        "weights_fp32_safetensors": safetensors_file,
        "scenarios": scenarios,
        "cross_checks_max_abs_diff": cross,
        "cuda_vs_cpu": devices,
        "float32_vs_float64": precision,
        "timings_s": {key: round(value, 3) for key, value in timings.items()},
    }, summary


def print_summary(summaries, device):
    header = f"{'variant':<8}{'scenario':<10}{'calls':>6}{'loss first->last':>24}{'q_halt range':>20}"
    header += f"{'reset==fresh':>14}{'f32-f64 drift':>15}{'cuda-cpu logits':>17}{'bytes':>10}"
    print("\n" + header)
    print("-" * len(header))
    for summary in summaries:
        for name in ("eval", "reset"):
            trace = summary[name]
            losses = [call["loss"] for call in trace["calls"]]
            q_halt = stack(trace, "q_halt_logits")
            cross = max(summary["cross"].values())
            devices = summary["devices"]
            versus = f"{devices['logits_max_abs_diff']:.2e}" if devices and name == "eval" else "-"
            drift = f"{summary['precision']['logits_max_abs_diff']:.2e}" if name == "eval" else "-"
            print(
                f"{summary['variant']:<8}{name:<10}{len(losses):>6}"
                f"{f'{losses[0]:.4f} -> {losses[-1]:.4f}':>24}"
                f"{f'[{q_halt.min():.3f}, {q_halt.max():.3f}]':>20}"
                f"{f'{cross:.1e}':>14}{drift:>15}{versus:>17}"
                f"{summary['bytes'] if name == 'eval' else '':>10}"
            )
    print(
        f"(device {device}; 'reset==fresh': largest |diff| of the scenario cross-checks; 'f32-f64 drift': largest "
        "|diff| of the eval logits from a float64 forward on CPU; 'cuda-cpu': the same against a float32 CPU run)"
    )


def parse_args(argv):
    parser = argparse.ArgumentParser(description="Parity fixtures from the official TRM code (see module docstring).")
    parser.add_argument("--out", required=True, type=Path, help="output folder (must not exist or be empty)")
    parser.add_argument("--ref", type=Path, default=REPO_ROOT / ".ref", help="folder written by fetch-reference.sh")
    parser.add_argument("--device", default="auto", choices=("auto", "cuda", "cpu"))
    parser.add_argument("--seed", type=int, default=0)
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    started = time.perf_counter()
    out = args.out.resolve()
    if out.exists() and any(out.iterdir()):
        raise FixtureError(f"--out {out} exists and is not empty; expected a new or empty folder")
    if args.device == "cuda" and not torch.cuda.is_available():
        raise FixtureError("--device cuda, but torch.cuda.is_available() is False")
    device = "cuda" if args.device == "auto" and torch.cuda.is_available() else args.device
    device = "cpu" if device == "auto" else device
    numerics = configure_numerics(device)
    reference = load_reference(args.ref.resolve())

    staging = out.parent / (out.name + ".partial")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    writer = FixtureWriter(staging)

    rng = np.random.default_rng(args.seed)
    batches = (
        sudoku_batch(rng, PUZZLE_IDS_A, 0.5, ignored_cells=(3, slice(72, 81))),
        sudoku_batch(rng, PUZZLE_IDS_B, 0.6),
    )
    variants, summaries = {}, []
    for index, (variant, switches) in enumerate(VARIANTS.items()):
        print(f"make-fixtures: {variant} ({switches}) on {device}", flush=True)
        variants[variant], summary = make_variant(reference, variant, switches, index, args, device, writer, batches)
        summaries.append(summary)

    device_name = torch.cuda.get_device_name(0) if device == "cuda" else platform.processor() or platform.machine()
    manifest = {
        "format": FORMAT,
        "description": "Outputs of the official TRM code on small random models, for parity tests of import-official.",
        "reference": {
            "repository": REFERENCE_REPOSITORY,
            "commit": reference.meta["commit"],
            "commit_date": reference.meta.get("commit_date"),
            "files_sha256": reference.meta["files"],
        },
        "produced": {
            "utc": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "command": " ".join(["python3", "scripts/official/make-fixtures.py", *(argv or sys.argv[1:])]),
            "python": platform.python_version(),
            "torch": torch.__version__,
            "torch_cuda": torch.version.cuda,
            "numpy": np.__version__,
            "device": device,
            "device_name": device_name,
            "numerics": numerics,
            "pydantic": "stand-in defined in make-fixtures.py (typed fields with defaults; unknown keys ignored)",
            "attention_layout": ATTENTION_LAYOUT_NOTE,
            "seed": args.seed,
            "wall_s": round(time.perf_counter() - started, 3),
        },
        "how": [
            "official TinyRecursiveReasoningModel_ACTV1(config dict) wrapped in ACTLossHead(loss_type="
            f"{LOSS_TYPE}) and torch.compile (never called), as pretrain.create_model does",
            "random weights: the reference's own initialisation, adjusted as each variant's `weights` says",
            "checkpoint: torch.save(wrapper.state_dict()) with H_init/L_init cast to bfloat16",
            "reload: fresh model, torch.load(map_location=device) + load_state_dict(assign=True), as load_checkpoint",
            "run: eval mode, torch.inference_mode, float32 (TF32 off), initial_carry then one call per step",
        ],
        "batches": {
            "A": {"puzzle_identifiers": PUZZLE_IDS_A, "blank_fraction": 0.5, "ignored_labels": "row 3, cells 72-80"},
            "B": {"puzzle_identifiers": PUZZLE_IDS_B, "blank_fraction": 0.6, "ignored_labels": "none"},
        },
        "file_meanings": FILE_TEXT,
        "variants": variants,
        "files": writer.files,
    }
    (staging / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    (staging / "README.md").write_text(readme_text(manifest))
    if out.exists():
        out.rmdir()
    staging.rename(out)
    print_summary(summaries, device)
    total = sum(entry["bytes"] for entry in writer.files.values())
    print(f"make-fixtures: OK, {len(writer.files)} files, {total / 1e6:.2f} MB in {out}, "
          f"{time.perf_counter() - started:.1f} s")


if __name__ == "__main__":
    try:
        main()
    except FixtureError as error:
        print(f"make-fixtures: FAILED: {error}", file=sys.stderr)
        sys.exit(1)
