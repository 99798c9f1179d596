"""Export the default embedding model to ONNX once, and verify the export by hash.

The whole sentence embedding (Gemma transformer, mean pooling, the two dense
layers, L2 normalisation) becomes one ONNX graph with dynamic batch and
sequence axes, so answering needs only ``onnxruntime`` and the model's
sentencepiece file, not PyTorch. The export itself uses PyTorch and runs once,
from ``planqa models install``.

A manifest next to the exported files records their SHA-256 together with the
source weights' hash; like the weights' marker, it also records each file's
size and mtime so later loads re-hash only files that changed. ``planqa models
verify`` re-hashes everything.

By default queries and documents are embedded by an int8 copy of that graph
(the matrix multiplications' weights quantized per output channel, written once
from the float32 export): about half the time per text, and vectors within
cos 0.95 of the float32 ones; ``PLANQA_EMBEDDING_PRECISION=float32`` keeps the
exact export. An index is embedded with one of them and answered with the same.
"""

from __future__ import annotations

import json
import logging
import shutil
import tempfile
import time
from pathlib import Path

from vectorstore import model_files
from vectorstore.model_files import DEFAULT_MODEL, ModelError, ModelStatus, _stamp, check_model, sha256_file
from vectorstore.onnx_encoder import ONNX_FILE, TOKENIZER_FILE

ONNX_DIRNAME = f"{DEFAULT_MODEL}-onnx"
ONNX_DATA = ONNX_FILE + ".data"
MANIFEST = "manifest.json"
EXPORT_FORMAT = 1  # bump when the exported graph changes (inputs, outputs, pooling)
OPSET = 18
EXPORT_HINT = "`planqa models install` で書き出してください。"


PRECISIONS = ("int8", "float32")
DEFAULT_PRECISION = "int8"
INT8_MIN_COS = 0.95  # the quantized graph's vectors against the float32 export's


def onnx_path(model_dir: Path, precision: str = "float32") -> Path:
    if precision not in PRECISIONS:
        raise ModelError(f"不明な埋め込みの精度です: {precision}（使えるもの: {', '.join(PRECISIONS)}）")
    return model_dir / (ONNX_DIRNAME if precision == "float32" else f"{ONNX_DIRNAME}-{precision}")


def _read_manifest(root: Path) -> dict:
    try:
        data = json.loads((root / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def check_onnx(model_dir: Path, full: bool = False, progress: bool = False, precision: str = "float32") -> ModelStatus:
    """Check the exported files against the manifest; ``full`` re-hashes every file.

    Without ``full`` a file is re-hashed only when its size or mtime differs from
    the one recorded when it was last hashed, so a query process starts fast."""
    root = onnx_path(model_dir, precision)
    manifest = _read_manifest(root)
    files = manifest.get("files")
    if not isinstance(files, dict) or not all(name in files for name in (ONNX_FILE, ONNX_DATA, TOKENIZER_FILE)):
        return ModelStatus(root, False, f"埋め込みモデルの ONNX 版がありません（{root}）。{EXPORT_HINT}")
    if manifest.get("format") != EXPORT_FORMAT or manifest.get("source_sha256") != model_files.WEIGHTS_SHA256:
        return ModelStatus(root, False, f"埋め込みモデルの ONNX 版が古い形式です（{root}）。{EXPORT_HINT}")
    stamps_changed = False
    for name, entry in files.items():
        path = root / name
        if not path.is_file():
            return ModelStatus(root, False, f"ONNX 版のファイル {name} がありません（{root}）。{EXPORT_HINT}")
        if not full and entry.get("stamp") == _stamp(path):
            continue
        if sha256_file(path, progress=progress) != entry.get("sha256"):
            return ModelStatus(
                root, False, f"ONNX 版のファイルが壊れています（ハッシュ不一致: {path}）。`planqa models install --force` で書き出し直してください。"
            )
        entry["stamp"] = _stamp(path)
        stamps_changed = True
    if stamps_changed:
        _write_manifest(root, manifest)
    return ModelStatus(root, True, "OK")


def record_manifest(root: Path, **extra: object) -> dict:
    """Hash the exported files in ``root`` and write the manifest that later checks compare with."""
    manifest = {
        "format": EXPORT_FORMAT,
        "source_sha256": model_files.WEIGHTS_SHA256,
        **extra,
        "files": {
            name: {"sha256": sha256_file(root / name), "stamp": _stamp(root / name)}
            for name in (ONNX_FILE, ONNX_DATA, TOKENIZER_FILE)
        },
    }
    _write_manifest(root, manifest)
    return manifest


def _write_manifest(root: Path, manifest: dict) -> None:
    tmp = root / f".{MANIFEST}.tmp"
    tmp.write_text(json.dumps(manifest, indent=2), encoding="utf-8")
    tmp.replace(root / MANIFEST)


def ensure_onnx(model_dir: Path, force: bool = False, log=print, precision: str = "float32") -> Path:
    """Export once (and for int8, quantize the export once); later calls only verify
    (by hash). Returns the folder of the asked precision."""
    root = onnx_path(model_dir, precision)
    if not force:
        status = check_onnx(model_dir, precision=precision)
        if status.ok:
            return status.path
    exact = onnx_path(model_dir)
    if force or not check_onnx(model_dir).ok:
        source = check_model(model_dir)
        if not source.ok:
            raise ModelError(source.message)
        started = time.perf_counter()
        log("埋め込みモデルを ONNX に書き出しています（初回のみ、数分かかります）…")
        export_onnx(source.path, exact)
        log(f"ONNX 版を書き出しました（{time.perf_counter() - started:.0f} 秒）: {exact}")
    if precision == "float32":
        return exact
    started = time.perf_counter()
    log("ONNX 版を int8 に量子化しています（初回のみ、1 分ほど）…")
    quantize_onnx(exact, root)
    log(f"int8 版を書き出しました（{time.perf_counter() - started:.0f} 秒）: {root}")
    return root


def quantize_onnx(source: Path, dest: Path) -> Path:
    """The float32 export with its MatMul weights quantized to int8 per output channel
    (activations quantized on the fly), checked against the float32 vectors."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    dest.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=dest.parent, prefix=".onnx-int8-") as tmp:
        work = Path(tmp)
        root_log = logging.getLogger()
        level = root_log.level
        root_log.setLevel(logging.ERROR)  # the quantizer's advice on pre-processing is for image models
        try:
            quantize_dynamic(str(source / ONNX_FILE), str(work / ONNX_FILE), weight_type=QuantType.QInt8,
                             per_channel=True, op_types_to_quantize=["MatMul"], use_external_data_format=True)
        finally:
            root_log.setLevel(level)
        if not (work / ONNX_DATA).is_file():
            raise ModelError(f"int8 版の書き出しで重みファイル {ONNX_DATA} ができませんでした。")
        shutil.copyfile(source / TOKENIZER_FILE, work / TOKENIZER_FILE)
        _check_against_exact(source, work)
        _publish(work, dest, opset=OPSET, quantized="int8 per-channel (MatMul)", from_sha256=sha256_file(source / ONNX_DATA))
    return dest


def _check_against_exact(exact: Path, work: Path) -> None:
    """The quantized graph must point where the float32 one does (cos ≥ INT8_MIN_COS)."""
    import numpy as np

    from vectorstore.onnx_encoder import OnnxSentenceEncoder

    texts = ["title: none | text: 行政手続のオンライン化を進め、窓口の待ち時間を短くします。",
             "title: none | text: 市民アンケートの回収率は36.3%でした。", "task: search result | query: 橋の点検は？"]
    want = OnnxSentenceEncoder(exact, max_length=128).encode(texts)
    got = OnnxSentenceEncoder(work, max_length=128).encode(texts)
    cos = (got * want).sum(axis=1)
    if not np.all(cos >= INT8_MIN_COS):
        raise ModelError(f"int8 版の出力が float32 版と離れすぎています（cos {cos.round(4).tolist()}）。")


def export_onnx(source: Path, dest: Path) -> Path:
    """Write model.onnx (+ external weights), the tokenizer and the manifest to ``dest``."""
    import torch

    with tempfile.TemporaryDirectory(dir=dest.parent, prefix=".onnx-export-") as tmp:
        work = Path(tmp)
        module, reference = _sentence_module(source)
        example = _example_inputs(source)
        program = torch.onnx.export(
            module,
            example,
            input_names=["input_ids", "attention_mask"],
            output_names=["sentence_embedding"],
            dynamic_shapes={"input_ids": {0: "batch", 1: "sequence"}, "attention_mask": {0: "batch", 1: "sequence"}},
            dynamo=True,
            opset_version=OPSET,
            external_data=True,
        )
        program.save(str(work / ONNX_FILE), external_data=True)
        if not (work / ONNX_DATA).is_file():
            raise ModelError(f"ONNX の書き出しで重みファイル {ONNX_DATA} ができませんでした。")
        write_text_only_tokenizer(source, work / TOKENIZER_FILE)
        _check_against_torch(reference, work)
        _publish(work, dest, opset=OPSET, torch=torch.__version__)
    return dest


def _publish(work: Path, dest: Path, **manifest: object) -> None:
    """Record the checked files' manifest and put the folder in place of ``dest``."""
    record_manifest(work, **manifest)
    if dest.exists():
        shutil.rmtree(dest)
    work.rename(dest)
    work.mkdir()  # let TemporaryDirectory clean up an empty folder


def write_text_only_tokenizer(source: Path, dest: Path) -> None:
    """The model's sentencepiece file, changed so that it reads every text exactly as
    the Hugging Face tokenizer does with ``split_special_tokens=True``: control-token
    strings typed in a question (``<bos>``, ``<start_of_turn>``) stay text.

    sentencepiece matches its user-defined pieces anywhere in the input; some are
    control tokens for the model (``<start_of_turn>``, ``<start_of_image>``) or
    pieces the Hugging Face tokenizer does not match in text (``<mask>``). Each
    user-defined piece that Hugging Face does not read as that one piece is marked
    unused, so encoding never produces it; the rest (``<unused0>``, HTML tags, runs
    of spaces) stay as they are."""
    from sentencepiece import sentencepiece_model_pb2
    from transformers import AutoTokenizer

    hf = AutoTokenizer.from_pretrained(str(source))
    proto = sentencepiece_model_pb2.ModelProto()
    proto.ParseFromString((source / TOKENIZER_FILE).read_bytes())
    user_defined = sentencepiece_model_pb2.ModelProto.SentencePiece.USER_DEFINED
    candidates = [(i, p.piece) for i, p in enumerate(proto.pieces) if p.type == user_defined]
    read = hf([piece for _, piece in candidates], add_special_tokens=False, split_special_tokens=True)["input_ids"]
    for (i, _), ids in zip(candidates, read, strict=True):
        if ids != [i]:
            proto.pieces[i].type = sentencepiece_model_pb2.ModelProto.SentencePiece.UNUSED
    dest.write_bytes(proto.SerializeToString())


def _sentence_module(source: Path):
    """The sentence-transformers pipeline as one module: (input_ids, attention_mask) → unit vectors."""
    import torch
    from sentence_transformers import SentenceTransformer

    st = SentenceTransformer(str(source), device="cpu", model_kwargs={"attn_implementation": "eager"})
    names = [type(m).__name__ for m in st]
    if names != ["Transformer", "Pooling", "Dense", "Dense", "Normalize"]:
        raise ModelError(f"想定と違うモデル構成です（{names}）。")
    if st[1].pooling_mode not in ("mean", ("mean",), ["mean"]):
        raise ModelError(f"想定と違うプーリングです（{st[1].pooling_mode}）。")

    class SentenceEmbedding(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.transformer = st[0].auto_model
            self.dense1 = st[2].linear
            self.dense2 = st[3].linear

        def forward(self, input_ids, attention_mask):
            hidden = self.transformer(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
            mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
            pooled = (hidden * mask).sum(dim=1) / torch.clamp(mask.sum(dim=1), min=1e-9)
            return torch.nn.functional.normalize(self.dense2(self.dense1(pooled)), p=2, dim=-1)

    return SentenceEmbedding().eval(), st


def _example_inputs(source: Path):
    import torch

    from vectorstore.onnx_encoder import SentencePieceTokenizer

    tokenizer = SentencePieceTokenizer(source / TOKENIZER_FILE, max_length=32)
    ids, mask = tokenizer.batch(["title: none | text: 公式アプリの登録者数", "task: search result | query: 目標は？"])
    return (torch.from_numpy(ids), torch.from_numpy(mask))


def _check_against_torch(reference, work: Path) -> None:
    """The exported graph must give PyTorch's vectors (padded batches included)."""
    import numpy as np
    import torch

    from vectorstore.onnx_encoder import OnnxSentenceEncoder

    texts = ["title: none | text: 行政手続のオンライン化を進め、窓口の待ち時間を短くします。", "task: search result | query: 橋の点検は？"]
    encoder = OnnxSentenceEncoder(work, max_length=128)
    got = encoder.encode(texts)
    with torch.inference_mode():
        want = reference.encode(texts, normalize_embeddings=True, convert_to_numpy=True)
    cos = (got * want).sum(axis=1)
    if not np.all(cos > 0.9999):
        raise ModelError(f"ONNX 版の出力が PyTorch と一致しません（cos {cos.round(5).tolist()}）。")
