"""Typed settings, read once at the entry point (env prefix ``PLANQA_``).

Every field has a default and a help line; ``planqa settings`` prints them and
a test checks that each one is documented in the README.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def _user_cache() -> Path:
    import os

    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "planqa"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="PLANQA_", extra="ignore")

    data_dir: Path = Field(PROJECT_ROOT / "data" / "plans", description="計画ファイルと manifest.json のあるフォルダ")
    index_dir: Path = Field(PROJECT_ROOT / "var" / "index", description="索引（Chroma・キーワード索引・レコード）の保存先")
    model_dir: Path = Field(default_factory=lambda: _user_cache() / "models", description="埋め込みモデルの保存先（クローンの外、再利用される）")
    cache_dir: Path = Field(default_factory=lambda: _user_cache() / "cache", description="埋め込みキャッシュ（モデル名＋内容ハッシュ）の保存先")
    embedding_model: str = Field("embeddinggemma-300m", description="埋め込みモデル: 既定の embeddinggemma-300m、または sentence-transformers のモデル名・パス")
    embedding_max_seq_length: int = Field(128, description="埋め込み時の最大トークン長（短いほど速い）")
    embedding_batch_size: int = Field(16, description="埋め込みのバッチサイズ")
    embedding_dtype: str = Field("auto", description="PyTorch で埋め込むときの計算精度: auto（CPU が対応していれば bfloat16）/ float32 / bfloat16")
    embedding_precision: str = Field("int8", description="ONNX Runtime で埋め込むときの重みの精度: int8（既定。float32 の約 2 倍速い）/ float32（書き出したままの精度）")
    embedding_runtime: str = Field("auto", description="埋め込みの実行系: auto（既定モデルは ONNX Runtime、ほかのモデルは PyTorch）/ onnx / torch")
    chroma_url: str | None = Field(None, description="Chroma サーバーの URL（例 http://localhost:8000）。未設定なら index_dir に永続化")
    collection: str = Field("planqa", description="Chroma のコレクション名")
    backend: str = Field("extractive", description="回答バックエンド: extractive（既定・LLM不要）/ openai / ollama")
    llm_base_url: str | None = Field(None, description="LLM サーバーの URL（OpenAI 互換 / Ollama）")
    llm_model: str = Field("", description="LLM のモデル名")
    llm_api_key: SecretStr | None = Field(None, description="LLM の API キー（環境変数からのみ。表示・記録しない）")
    llm_timeout_s: float = Field(60.0, description="LLM の回答全体のタイムアウト（秒）。超えたら抽出型の回答に切り替える")
    llm_max_retries: int = Field(0, description="OpenAI 互換サーバーへの再試行回数（接続できない・429・5xx のとき）。1 回ごとに最大 llm_timeout_s かかる")
    max_question_chars: int = Field(500, description="質問の最大文字数（これを超える質問は受け付けない）")
    feedback_db: Path = Field(PROJECT_ROOT / "var" / "feedback.sqlite3", description="フィードバックの保存先（SQLite）")
    host: str = Field("127.0.0.1", description="UI サーバーの待ち受けアドレス（既定はローカルのみ）")
    port: int = Field(7860, description="UI サーバーのポート")
    auth: str | None = Field(None, description="評価・フィードバック画面のログイン「ユーザー:パスワード」（未設定ならログイン不要）")
    api_token: SecretStr | None = Field(None, description="HTTP API（/api/*・/v1/*）の Bearer トークン（未設定なら認証なし。表示・記録しない）")
    concurrency: int = Field(4, description="UI の同時処理数（Gradio キューの concurrency_limit）")

    @property
    def manifest_path(self) -> Path:
        return self.data_dir / "manifest.json"


def load_settings(**overrides: object) -> Settings:
    """Read the environment once; explicit overrides (CLI flags) win."""
    clean = {k: v for k, v in overrides.items() if v is not None}
    return Settings(**clean)
