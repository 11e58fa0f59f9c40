#!/usr/bin/env python3
"""Reference outputs of the Python library (sentence-transformers) for Splade.NET's compatibility tests.

Runs on a machine with sentence-transformers, transformers, tokenizers and PyTorch installed; needs no
network. Every section is independent: a failure is recorded in summary.json and the others still run.

  python3 generate.py --testdata tests/Splade.Tests/testdata --extra EXTRA --out OUT

EXTRA (optional parts; a missing one is skipped):
  bert-mini-random-splade/            the benchmark checkpoint (no onnx/ needed)
  bert-mini-random-splade.expected.json
  splade-trained/                     a checkpoint written by `splade train`
  strings.jsonl.gz                    extra strings ({"text": ...} per line) for tokenizer parity

OUT receives:
  summary.json                        versions, every comparison and its max difference, errors
  versions.json
  <model>.vectors.json                per fixture text: ids, indices, values (encode_query / encode_document)
  training.json, training.grads.safetensors, python-trained-tiny-splade/ (+ .vectors.json)
  eval-adi-<model>.json, eval-adi-<model>/ (the evaluator's CSV)
  splade-trained.vectors.json, splade-trained.load.json
  inference-free-tiny-splade/ (+ .vectors.json)
  tokenizer-hashes.json
"""
from __future__ import annotations

import argparse
import gzip
import hashlib
import io
import json
import logging
import os
import platform
import sys
import time
import traceback
import warnings

import torch

DIM = 30522


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


class Capture:
    """Collects the log records and warnings emitted while loading a model (missing or unexpected weights)."""

    def __enter__(self):
        self.records: list[str] = []
        self.handler = logging.Handler()
        self.handler.setLevel(logging.WARNING)
        self.handler.emit = lambda r: self.records.append(f"{r.name}: {r.getMessage()}")
        self.loggers = [logging.getLogger(n) for n in ("transformers", "sentence_transformers", "")]
        for lg in self.loggers:
            lg.addHandler(self.handler)
        self.warn = warnings.catch_warnings(record=True)
        self.caught = self.warn.__enter__()
        warnings.simplefilter("always")
        return self

    def __exit__(self, *exc):
        for lg in self.loggers:
            lg.removeHandler(self.handler)
        self.warn.__exit__(*exc)
        self.records += [f"warning: {w.message}" for w in self.caught]
        return False


def versions() -> dict:
    import sentence_transformers
    import tokenizers
    import transformers

    out = {
        "sentence_transformers": sentence_transformers.__version__,
        "transformers": transformers.__version__,
        "tokenizers": tokenizers.__version__,
        "torch": torch.__version__,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "device": "cpu",
        "torch_threads": torch.get_num_threads(),
    }
    try:
        import safetensors

        out["safetensors"] = safetensors.__version__
    except Exception:  # noqa: BLE001
        pass
    return out


def dense_rows(emb) -> torch.Tensor:
    if isinstance(emb, list):
        emb = torch.stack([e.to_dense() if e.is_sparse else e for e in emb])
    if emb.is_sparse:
        emb = emb.to_dense()
    return emb.detach().to(torch.float32).cpu()


def sparse_of(row: torch.Tensor) -> tuple[list[int], list[float]]:
    idx = torch.nonzero(row, as_tuple=False).flatten()
    return idx.tolist(), [float(v) for v in row[idx].tolist()]


def encode_texts(model, texts: list[dict], one_by_one: bool = True) -> tuple[list[dict], float]:
    """Encodes every text with encode_query / encode_document by role: in one batch per role, and (when
    one_by_one) also one text at a time, returning the batch results and the max |batched - single|."""
    rows: dict[int, torch.Tensor] = {}
    for role in ("query", "document"):
        items = [(i, t["text"]) for i, t in enumerate(texts) if t["role"] == role]
        if not items:
            continue
        fn = model.encode_query if role == "query" else model.encode_document
        batch = dense_rows(fn([s for _, s in items], batch_size=32, convert_to_tensor=True))
        for k, (i, _) in enumerate(items):
            rows[i] = batch[k]
    single_diff = 0.0
    if one_by_one:
        for i, t in enumerate(texts):
            fn = model.encode_query if t["role"] == "query" else model.encode_document
            one = dense_rows(fn([t["text"]], batch_size=1, convert_to_tensor=True))[0]
            single_diff = max(single_diff, float((one - rows[i]).abs().max()))
    out = []
    for i, t in enumerate(texts):
        indices, values = sparse_of(rows[i])
        entry = {"text": t["text"], "role": t["role"], "indices": indices, "values": values}
        try:
            entry["ids"] = model.tokenize([t["text"]])["input_ids"][0].tolist()
        except Exception:  # noqa: BLE001  (a Router model tokenizes per task; without one, by its default route)
            pass
        out.append(entry)
    return out, single_diff


def compare_vectors(actual: list[dict], expected: list[dict]) -> dict:
    """Token ids, non-zero sets and values of two lists of vectors of the same texts."""
    ids_diff, set_diff, max_abs, worst = 0, 0, 0.0, None
    for a, e in zip(actual, expected, strict=True):
        if "ids" in a and "ids" in e and a["ids"] != e["ids"]:
            ids_diff += 1
        ea = dict(zip(a["indices"], a["values"]))
        ee = dict(zip(e["indices"], e["values"]))
        if set(ea) != set(ee):
            set_diff += 1
        for k in set(ea) | set(ee):
            d = abs(ea.get(k, 0.0) - ee.get(k, 0.0))
            if d > max_abs:
                max_abs, worst = d, (e["text"][:40], k)
    return {"texts": len(expected), "ids_differ": ids_diff, "nonzero_sets_differ": set_diff,
            "max_abs_diff": max_abs, "worst": worst}


def write_json(path: str, obj) -> None:
    with open(path, "w", encoding="utf-8") as f:
        json.dump(obj, f, ensure_ascii=False, indent=1)


def state_dict_vs_file(model, folder: str) -> dict:
    """Compares every tensor of folder/model.safetensors with the loaded model's parameters (exact)."""
    from safetensors.torch import load_file

    file = load_file(os.path.join(folder, "model.safetensors"))
    sd = {}
    for name, t in model.state_dict().items():
        for marker in ("bert.", "cls."):
            p = name.find(marker)
            if p >= 0:
                sd[name[p:]] = t
                break
    missing, differ, max_diff = [], [], 0.0
    for name, t in file.items():
        if name not in sd:
            missing.append(name)
            continue
        d = float((sd[name].float() - t.float()).abs().max()) if sd[name].shape == t.shape else float("inf")
        max_diff = max(max_diff, d)
        if d != 0.0:
            differ.append(name)
    unexpected = [n for n in sd if n not in file and "position_ids" not in n and "decoder" not in n]
    return {"file_tensors": len(file), "not_in_model": missing, "differ": differ, "max_abs_diff": max_diff,
            "model_only": unexpected}


def section(summary: dict, name: str, fn) -> None:
    log(f"== {name}")
    t0 = time.time()
    try:
        summary[name] = fn()
        summary[name + "_seconds"] = round(time.time() - t0, 1)
        log(f"   {name}: {json.dumps(summary[name], default=str)[:1500]}")
    except Exception as e:  # noqa: BLE001
        summary.setdefault("errors", {})[name] = "".join(traceback.format_exception(e))[-4000:]
        log(f"   {name} FAILED: {e!r}")


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--testdata", required=True)
    ap.add_argument("--extra", default="")
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    torch.manual_seed(0)
    from sentence_transformers import SparseEncoder

    summary: dict = {"versions": versions()}
    write_json(os.path.join(args.out, "versions.json"), summary["versions"])
    log(json.dumps(summary["versions"]))
    models_dir = os.path.join(args.testdata, "models")
    fixtures = {
        "tiny-splade": (os.path.join(models_dir, "tiny-splade"), os.path.join(models_dir, "tiny-splade.expected.json")),
        "tiny-splade-variant": (os.path.join(models_dir, "tiny-splade-variant"),
                                os.path.join(models_dir, "tiny-splade-variant.expected.json")),
        "bert-mini-random-splade": (os.path.join(args.extra, "bert-mini-random-splade"),
                                    os.path.join(args.extra, "bert-mini-random-splade.expected.json")),
    }

    def load(path, **kw):
        with Capture() as cap:
            model = SparseEncoder(path, device="cpu", **kw)
        return model, cap.records

    # 1. Encoding: the fixture texts through SparseEncoder(path).encode_query / encode_document.
    for name, (folder, expected_path) in fixtures.items():
        if not os.path.isdir(folder):
            summary.setdefault("skipped", []).append(name)
            continue

        def run_encode(name=name, folder=folder, expected_path=expected_path):
            expected = json.load(open(expected_path, encoding="utf-8"))
            texts = [{"text": t["text"], "role": t["role"], "ids": t["ids"], "indices": t["indices"],
                      "values": t["values"]} for t in expected["texts"]]
            model, records = load(folder)
            info = {"load_messages": records, "max_seq_length": model.max_seq_length,
                    "similarity_fn_name": model.similarity_fn_name,
                    "param_dtype": str(next(model.parameters()).dtype),
                    "state_dict_vs_file": state_dict_vs_file(model, folder)}
            vectors, single = encode_texts(model, texts)
            info["batched_vs_single_max_abs_diff"] = single
            info["vs_independent_fixture"] = compare_vectors(vectors, texts)
            # The dot-product matrix through the library's own similarity function.
            q = [i for i, t in enumerate(texts) if t["role"] == "query"]
            d = [i for i, t in enumerate(texts) if t["role"] == "document"]
            def dense(i):
                v = torch.zeros(DIM)
                v[vectors[i]["indices"]] = torch.tensor(vectors[i]["values"])
                return v
            sim = model.similarity(torch.stack([dense(i) for i in q]), torch.stack([dense(i) for i in d]))
            info["similarity_vs_fixture_max_abs_diff"] = float(
                (sim - torch.tensor(expected["similarity"]["scores"])).abs().max())
            out = {"model": name, "versions": summary["versions"], "similarity": {
                "query_rows": q, "document_columns": d, "scores": sim.tolist()}, "texts": vectors}
            write_json(os.path.join(args.out, f"{name}.vectors.json"), out)
            if info["param_dtype"] != "torch.float32":
                # The library keeps the checkpoint's dtype by default; also record fp32 compute.
                errors = []
                for key in ("dtype", "torch_dtype"):
                    try:
                        m32, _ = load(folder, model_kwargs={key: torch.float32})
                        v32, _ = encode_texts(m32, texts, one_by_one=False)
                        info["fp32_param_dtype"] = str(next(m32.parameters()).dtype)
                        info["fp32_vs_independent_fixture"] = compare_vectors(v32, texts)
                        out["texts_fp32"] = v32
                        write_json(os.path.join(args.out, f"{name}.vectors.json"), out)
                        break
                    except Exception as e:  # noqa: BLE001
                        errors.append(f"{key}: {e!r}")
                info["fp32_errors"] = errors
            return info

        section(summary, f"encode:{name}", run_encode)

    # 2. One SpladeLoss step (SparseMultipleNegativesRankingLoss + FLOPS), then AdamW for 3 steps.
    def run_training():
        from safetensors.torch import load_file, save_file
        from sentence_transformers.sparse_encoder.losses import SparseMultipleNegativesRankingLoss, SpladeLoss
        try:
            from sentence_transformers.util import dot_score
        except ImportError:
            def dot_score(a, b):
                return a @ b.T

        folder, expected_path = fixtures["tiny-splade"]
        expected = json.load(open(expected_path, encoding="utf-8"))
        qs = [t["text"] for t in expected["texts"] if t["role"] == "query"][:4]
        ds = [t["text"] for t in expected["texts"] if t["role"] == "document"][:8]
        # Dropout off, as in the fixture, but the model stays in training mode: in eval mode the pooling may
        # work in place, which autograd refuses.
        model, _ = load(folder, config_kwargs={"hidden_dropout_prob": 0.0, "attention_probs_dropout_prob": 0.0})
        model.train()
        for m in model.modules():
            if isinstance(m, torch.nn.Dropout):
                m.p = 0.0
            for attr in ("dropout_prob", "attention_dropout"):
                if isinstance(getattr(m, attr, None), float):
                    setattr(m, attr, 0.0)
        mnrl = SparseMultipleNegativesRankingLoss(model, scale=1.0, similarity_fct=dot_score)
        try:
            loss_fn = SpladeLoss(model, mnrl, 0.003, 0.005)
        except TypeError:
            loss_fn = SpladeLoss(model=model, loss=mnrl, document_regularizer_weight=0.003,
                                 query_regularizer_weight=0.005)
        opt = torch.optim.AdamW(model.parameters(), lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.01)
        steps, grads = [], {}
        for step in range(3):
            opt.zero_grad()
            feats = [model.tokenize(qs), model.tokenize(ds[:4]), model.tokenize(ds[4:8])]
            parts = loss_fn(feats, None)
            if not isinstance(parts, dict):
                parts = {"loss": parts}
            total = sum(parts.values())
            total.backward()
            steps.append({"step": step, "loss": float(total), **{k: float(v) for k, v in parts.items()}})
            if step == 0:
                for n, p in model.named_parameters():
                    if p.grad is None:
                        continue
                    for marker in ("bert.", "cls."):
                        k = n.find(marker)
                        if k >= 0:
                            grads[n[k:]] = p.grad.detach().clone().contiguous()
                            break
            opt.step()
        save_file(grads, os.path.join(args.out, "training.grads.safetensors"))
        ref = load_file(os.path.join(models_dir, "tiny-splade.grads.safetensors"))
        worst_rel, worst_abs, worst_name, missing = 0.0, 0.0, None, []
        for n, g in ref.items():
            if n not in grads:
                missing.append(n)
                continue
            d = float((grads[n] - g).abs().max())
            rel = d / max(float(g.abs().max()), 1e-12)
            worst_abs = max(worst_abs, d)
            if rel > worst_rel:
                worst_rel, worst_name = rel, n
        ref_losses = [s["loss"] for s in expected["training"]["steps"]]
        info = {"steps": steps, "fixture_losses": ref_losses,
                "loss_max_abs_diff": max(abs(a["loss"] - b) for a, b in zip(steps, ref_losses)),
                "grads_max_abs_diff": worst_abs, "grads_max_rel_to_tensor_max": worst_rel,
                "grads_worst_tensor": worst_name, "grads_missing": missing, "grads_python_only":
                [n for n in grads if n not in ref]}
        write_json(os.path.join(args.out, "training.json"), {"versions": summary["versions"], **info})
        trained = os.path.join(args.out, "python-trained-tiny-splade")
        model.save(trained)
        texts = [{"text": t["text"], "role": t["role"]} for t in expected["texts"]]
        again, records = load(trained)
        vectors, _ = encode_texts(again, texts, one_by_one=False)
        write_json(os.path.join(args.out, "python-trained-tiny-splade.vectors.json"),
                   {"model": "python-trained-tiny-splade", "versions": summary["versions"], "texts": vectors})
        info["saved_folder_files"] = sorted(os.listdir(trained))
        info["reload_messages"] = records
        return info

    section(summary, "training", run_training)

    # 3. SparseInformationRetrievalEvaluator on ADI.
    def run_eval(model_name):
        from sentence_transformers.sparse_encoder.evaluation import SparseInformationRetrievalEvaluator

        adi = os.path.join(args.testdata, "ir", "adi")
        corpus = {}
        for line in open(os.path.join(adi, "corpus.jsonl"), encoding="utf-8"):
            o = json.loads(line)
            title, text = o.get("title") or "", o.get("text") or ""
            corpus[str(o["_id"])] = (title + " " + text) if title else text
        queries = {}
        for line in open(os.path.join(adi, "queries.jsonl"), encoding="utf-8"):
            o = json.loads(line)
            queries[str(o["_id"])] = o["text"]
        rel: dict[str, set] = {}
        for i, line in enumerate(open(os.path.join(adi, "qrels", "test.tsv"), encoding="utf-8")):
            parts = line.rstrip("\n").split("\t")
            if i == 0 and parts[0] == "query-id":
                continue
            if int(parts[2]) > 0:
                rel.setdefault(parts[0], set()).add(parts[1])
        model, _ = load(fixtures[model_name][0])
        ev = SparseInformationRetrievalEvaluator(queries=queries, corpus=corpus, relevant_docs=rel, name="adi",
                                                 show_progress_bar=False, batch_size=32)
        out_dir = os.path.join(args.out, f"eval-adi-{model_name}")
        os.makedirs(out_dir, exist_ok=True)
        metrics = ev(model, output_path=out_dir)
        def num(v):
            try:
                return float(v)
            except (TypeError, ValueError):
                return str(v)

        metrics = {k: num(v) for k, v in metrics.items()}
        write_json(os.path.join(args.out, f"eval-adi-{model_name}.json"),
                   {"model": model_name, "versions": summary["versions"], "metrics": metrics})
        return metrics

    section(summary, "eval:tiny-splade", lambda: run_eval("tiny-splade"))
    if os.path.isdir(fixtures["bert-mini-random-splade"][0]):
        section(summary, "eval:bert-mini-random-splade", lambda: run_eval("bert-mini-random-splade"))

    # 4. A checkpoint written by `splade train`, loaded by the Python library.
    trained_dir = os.path.join(args.extra, "splade-trained")
    if os.path.isdir(trained_dir):
        def run_trained():
            expected = json.load(open(fixtures["tiny-splade"][1], encoding="utf-8"))
            texts = [{"text": t["text"], "role": t["role"]} for t in expected["texts"]]
            model, records = load(trained_dir)
            vectors, single = encode_texts(model, texts)
            info = {"load_messages": records, "state_dict_vs_file": state_dict_vs_file(model, trained_dir),
                    "max_seq_length": model.max_seq_length, "batched_vs_single_max_abs_diff": single}
            write_json(os.path.join(args.out, "splade-trained.vectors.json"),
                       {"model": "splade-trained", "versions": summary["versions"], "texts": vectors})
            return info

        section(summary, "splade-trained", run_trained)

    # 5. An inference-free model (Router: SparseStaticEmbedding for queries, MLM + SpladePooling for documents).
    def run_router():
        from sentence_transformers.models import Router
        from sentence_transformers.sparse_encoder.models import SparseStaticEmbedding

        base, _ = load(fixtures["tiny-splade"][0])
        g = torch.Generator().manual_seed(7)
        weight = torch.rand(DIM, generator=g) * 3.0
        static = SparseStaticEmbedding(tokenizer=base[0].tokenizer, weight=weight, frozen=False)
        router = Router.for_query_document(query_modules=[static], document_modules=[base[0], base[1]])
        model = SparseEncoder(modules=[router], similarity_fn_name="dot", device="cpu")
        folder = os.path.join(args.out, "inference-free-tiny-splade")
        model.save(folder)
        again, records = load(folder)
        expected = json.load(open(fixtures["tiny-splade"][1], encoding="utf-8"))
        texts = [{"text": t["text"], "role": t["role"]} for t in expected["texts"]]
        vectors, single = encode_texts(again, texts)
        write_json(os.path.join(args.out, "inference-free-tiny-splade.vectors.json"),
                   {"model": "inference-free-tiny-splade", "versions": summary["versions"], "texts": vectors})
        files = []
        for root, _, names in os.walk(folder):
            files += [os.path.relpath(os.path.join(root, n), folder) for n in names]
        return {"files": sorted(files), "reload_messages": records, "batched_vs_single_max_abs_diff": single}

    section(summary, "inference-free", run_router)

    # 6. Tokenizer parity: a hash of the ids of every string, from the library's tokenizer and from tokenizers.
    def run_tokenizer():
        from tokenizers import Tokenizer
        from transformers import AutoTokenizer

        folder = fixtures["tiny-splade"][0]
        fast = AutoTokenizer.from_pretrained(folder)
        raw = Tokenizer.from_file(os.path.join(folder, "tokenizer.json"))
        raw.no_truncation()
        raw.no_padding()
        strings = []  # (source, text)
        for t in json.load(open(fixtures["tiny-splade"][1], encoding="utf-8"))["texts"]:
            strings.append(("fixture", t["text"]))
        tok_dir = os.path.join(args.testdata, "tokenizer")
        for line in open(os.path.join(tok_dir, "bert_base_uncased_transformersjs_cases.jsonl"), encoding="utf-8"):
            strings.append(("transformersjs", json.loads(line)["text"]))
        for f in ("corpus.jsonl", "queries.jsonl"):
            for line in open(os.path.join(args.testdata, "ir", "adi", f), encoding="utf-8"):
                o = json.loads(line)
                strings += [("adi", s) for s in (o.get("title"), o.get("text")) if s]
        extra = os.path.join(args.extra, "strings.jsonl.gz")
        if os.path.exists(extra):
            with gzip.open(extra, "rt", encoding="utf-8") as f:
                strings += [("extra", json.loads(line)["text"]) for line in f]
        hashes, disagree = [], 0
        for source, s in strings:
            a = fast(s, add_special_tokens=True, truncation=False)["input_ids"]
            b = raw.encode(s).ids
            if a != b:
                disagree += 1
            hashes.append({"source": source, "text": s, "n": len(a),
                           "sha1": hashlib.sha1(",".join(map(str, a)).encode()).hexdigest()[:16]})
        write_json(os.path.join(args.out, "tokenizer-hashes.json"),
                   {"versions": summary["versions"], "hash": "sha1 of the comma-joined ids, first 16 hex digits",
                    "strings": len(strings), "entries": hashes})
        return {"strings": len(strings), "fast_vs_tokenizers_disagree": disagree,
                "tokenizer_class": type(fast).__name__}

    section(summary, "tokenizer", run_tokenizer)

    write_json(os.path.join(args.out, "summary.json"), summary)
    log(f"errors: {list(summary.get('errors', {}))}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
