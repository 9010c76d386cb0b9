"""attn's models in plain PyTorch: open what `attn export` writes, and go on in Python.

    import attn_torch                                     # scripts/ on sys.path
    model = attn_torch.load("runs/default/model.pt")      # or model.safetensors; reads model.json
    model.predict(["a gripping film", "dull"])            # classifier: [(label, {label: p}), ...]
    model.translate(["ein Hund rennt ."])                 # seq2seq: greedy translations

    python3 scripts/attn_torch.py EXPORT [TEXT ...]       # one JSON line per text (stdin without TEXT)

The classes are the lecture notebook's (MultiHeadAttention with W_q, W_k, W_v, W_h; CNN, the
kernel-size-1 convolutions k1convL1 and k1convL2; EncoderLayer, Embeddings, Encoder,
TransformerClassifier), with attn's options beside them: pre or post LayerNorm, GELU, max, mean
or attention pooling, soft or hard attention with an inverse temperature beta, and the decoder,
DecoderLayer and Seq2Seq of the translation models. Parameter names are attn's, so that an
export's state dict loads with strict=True; the forward passes compute what attn's do (the tests
compare the logits, 1e-5). Needs PyTorch only; translating sentencepiece models needs the
sentencepiece module as well (Debian: python3-sentencepiece).
"""
import base64
import json
import math
import os
import struct
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F

PAD, BOS, EOS = 1, 2, 3  # <unk> = 0, <pad> = 1, <s> = 2, </s> = 3, as in attn


# ----- the modules ---------------------------------------------------------------------------

def hard_in(m, place):
    """Whether model.hard_in names this place ("encoder", "decoder", "cross", "pooling"; every
    place when the config predates hard_in)."""
    return place in m.get("hard_in", ["encoder", "decoder", "cross", "pooling"])


def mode_in(m, place):
    """model.attention where model.hard_in names the place, soft elsewhere."""
    return m["attention"] if hard_in(m, place) else "soft"


def beta_in(m, place):
    """The beta of the place: a beta schedule's last (the checkpoint's step) where it applied."""
    return m.get("scheduled_beta", 0) if hard_in(m, place) and m.get("scheduled_beta", 0) > 0 else m["beta"]


class MultiHeadAttention(nn.Module):
    """The notebook's multi-head attention: a = softargmax(beta q k^T) (hard: the argmax one-hot)."""

    def __init__(self, d_model, num_heads, mode="soft", beta=None):
        super().__init__()
        assert d_model % num_heads == 0, "d_model must be divisible by num_heads"
        self.num_heads, self.d_k, self.mode = num_heads, d_model // num_heads, mode
        self.beta = beta if beta else 1.0 / math.sqrt(self.d_k)
        self.W_q = nn.Linear(d_model, d_model, bias=False)
        self.W_k = nn.Linear(d_model, d_model, bias=False)
        self.W_v = nn.Linear(d_model, d_model, bias=False)
        self.W_h = nn.Linear(d_model, d_model)

    def split_heads(self, x):                                    # (B, T, D) -> (B, H, T, Dk)
        B, T, _ = x.shape
        return x.view(B, T, self.num_heads, self.d_k).transpose(1, 2)

    def attention(self, q, k, v, key_padding_mask=None, causal=False):
        scores = torch.matmul(q * self.beta, k.transpose(-2, -1))  # (B, H, Tq, Tk)
        Tq, Tk = scores.shape[-2:]
        hidden = None  # True where query i may not see key j
        if key_padding_mask is not None:
            hidden = key_padding_mask.view(scores.shape[0], 1, 1, Tk)
        if causal:
            i = torch.arange(Tq, device=q.device).view(Tq, 1)
            j = torch.arange(Tk, device=q.device).view(1, Tk)
            future = (j > i + (Tk - Tq)).view(1, 1, Tq, Tk)
            hidden = future if hidden is None else hidden | future
        blind = None
        if hidden is not None:
            blind = hidden.all(-1, keepdim=True)                   # queries that see no key
            scores = scores.masked_fill(hidden, float("-inf")).masked_fill(blind, 0.0)
        if self.mode == "hard":                                    # one key per query, the first maximum
            a = torch.zeros_like(scores).scatter_(-1, scores.argmax(-1, keepdim=True), 1.0)
        else:
            a = torch.softmax(scores, -1)
        if blind is not None:
            a = a.masked_fill(blind, 0.0)
        return torch.matmul(a, v), a                               # (B, H, Tq, Dk), (B, H, Tq, Tk)

    def forward(self, X_q, X_k, X_v, key_padding_mask=None, causal=False):
        q, k, v = self.split_heads(self.W_q(X_q)), self.split_heads(self.W_k(X_k)), self.split_heads(self.W_v(X_v))
        h, a = self.attention(q, k, v, key_padding_mask, causal)
        B, _, Tq, _ = h.shape
        return self.W_h(h.transpose(1, 2).reshape(B, Tq, -1)), a  # (B, Tq, D), (B, H, Tq, Tk)


class CNN(nn.Module):
    """The feed-forward part: two convolutions of kernel size 1 (a Linear per set element)."""

    def __init__(self, d_model, hidden_dim, activation="relu"):
        super().__init__()
        self.k1convL1 = nn.Conv1d(d_model, hidden_dim, 1)
        self.k1convL2 = nn.Conv1d(hidden_dim, d_model, 1)
        self.activation = F.gelu if activation == "gelu" else F.relu

    def forward(self, x):                                          # (B, T, D)
        x = self.activation(self.k1convL1(x.transpose(1, 2)))      # (B, F, T)
        return self.k1convL2(x).transpose(1, 2)                    # (B, T, D)


def layer_norm(d):
    return nn.LayerNorm(d, eps=1e-6)


def residual(norm_placement, x, norm, f):
    """Post: LN(x + f(x)), the notebook's; pre: x + f(LN(x))."""
    return x + f(norm(x)) if norm_placement == "pre" else norm(x + f(x))


class EncoderLayer(nn.Module):
    def __init__(self, m):
        super().__init__()
        self.norm_placement = m["norm"]
        self.mha = MultiHeadAttention(m["d_model"], m["heads"], mode_in(m, "encoder"), beta_in(m, "encoder"))
        self.cnn = CNN(m["d_model"], m["ffn_hidden"], m["activation"])
        self.layernorm1, self.layernorm2 = layer_norm(m["d_model"]), layer_norm(m["d_model"])
        self.weights = None  # the last forward's self-attention (B, H, T, T)

    def forward(self, x, key_padding_mask=None):
        def attend(y):
            out, self.weights = self.mha(y, y, y, key_padding_mask)
            return out
        x = residual(self.norm_placement, x, self.layernorm1, attend)
        return residual(self.norm_placement, x, self.layernorm2, self.cnn)


class Embeddings(nn.Module):
    """Word embeddings, plus learned or sinusoidal positions where the model has them, then LayerNorm."""

    def __init__(self, vocab_size, d_model, positions="none", max_positions=10000):
        super().__init__()
        self.word_embeddings = nn.Embedding(vocab_size, d_model, padding_idx=PAD)
        self.position_embeddings = nn.Embedding(max_positions, d_model) if positions != "none" else None
        self.LayerNorm = nn.LayerNorm(d_model, eps=1e-12)

    def forward(self, ids, start=0):                               # (B, T) -> (B, T, D)
        x = self.word_embeddings(ids)
        if self.position_embeddings is not None:
            x = x + self.position_embeddings(torch.arange(start, start + ids.shape[1], device=ids.device))
        return self.LayerNorm(x)


class Encoder(nn.Module):
    def __init__(self, m, vocab_size):
        super().__init__()
        self.embedding = Embeddings(vocab_size, m["d_model"], m["positions"], m["max_positions"])
        self.layers = nn.ModuleList([EncoderLayer(m) for _ in range(m["layers"])])
        self.final_norm = layer_norm(m["d_model"]) if m["norm"] == "pre" else None

    def forward(self, ids, key_padding_mask=None):
        x = self.embedding(ids)
        for layer in self.layers:
            x = layer(x, key_padding_mask)
        return self.final_norm(x) if self.final_norm is not None else x


class TransformerClassifier(nn.Module):
    """Set to vector: the encoder, a pooling over the set (max, mean or a learned query's
    attention), then a Linear to the classes."""

    def __init__(self, m, vocab_size, num_classes):
        super().__init__()
        self.pooling = m["pooling"]
        self.encoder = Encoder(m, vocab_size)
        if self.pooling == "attention":
            self.pool_query = nn.Parameter(torch.zeros(1, 1, m["d_model"]))
            self.pool_attention = MultiHeadAttention(m["d_model"], m["heads"], mode_in(m, "pooling"), beta_in(m, "pooling"))
        self.dense = nn.Linear(m["d_model"], num_classes)
        self.pool_weights = None  # attention pooling: the last forward's (B, H, 1, T)

    def forward(self, ids, key_padding_mask=None):                 # (B, T) -> (B, C)
        x = self.encoder(ids, key_padding_mask)                    # (B, T, D)
        keep = None if key_padding_mask is None else (~key_padding_mask).unsqueeze(-1)
        if self.pooling == "max":
            if keep is not None:
                x = x.masked_fill(~keep, float("-inf"))
            x = x.max(1).values
            if keep is not None:
                x = x.masked_fill(~keep.any(1), 0.0)               # an empty set pools to 0
        elif self.pooling == "mean":
            x = x.mean(1) if keep is None else (x * keep).sum(1) / keep.sum(1).clamp_min(1)
        else:
            q = self.pool_query.expand(x.shape[0], 1, x.shape[2])
            x, self.pool_weights = self.pool_attention(q, x, x, key_padding_mask)
            x = x.squeeze(1)
        return self.dense(x)


class DecoderLayer(nn.Module):
    def __init__(self, m):
        super().__init__()
        d = m["d_model"]
        self.norm_placement = m["norm"]
        self.self_mha = MultiHeadAttention(d, m["heads"], mode_in(m, "decoder"), beta_in(m, "decoder"))
        self.cross_mha = MultiHeadAttention(d, m["heads"], mode_in(m, "cross"), beta_in(m, "cross"))
        self.cnn = CNN(d, m["ffn_hidden"], m["activation"])
        self.layernorm1, self.layernorm2, self.layernorm3 = layer_norm(d), layer_norm(d), layer_norm(d)
        self.cross_weights = None  # the last forward's cross-attention (B, H, T, S)

    def forward(self, y, memory, tgt_padding=None, memory_padding=None):
        def self_attend(x):
            return self.self_mha(x, x, x, tgt_padding, causal=True)[0]

        def cross_attend(x):
            out, self.cross_weights = self.cross_mha(x, memory, memory, memory_padding)
            return out
        y = residual(self.norm_placement, y, self.layernorm1, self_attend)
        y = residual(self.norm_placement, y, self.layernorm2, cross_attend)
        return residual(self.norm_placement, y, self.layernorm3, self.cnn)


class Decoder(nn.Module):
    def __init__(self, m, vocab_size):
        super().__init__()
        self.embedding = Embeddings(vocab_size, m["d_model"], m["decoder_positions"], m["max_positions"])
        n = m["decoder_layers"] if m["decoder_layers"] > 0 else m["layers"]
        self.layers = nn.ModuleList([DecoderLayer(m) for _ in range(n)])
        self.final_norm = layer_norm(m["d_model"]) if m["norm"] == "pre" else None

    def forward(self, ids, memory, tgt_padding=None, memory_padding=None):
        x = self.embedding(ids)
        for layer in self.layers:
            x = layer(x, memory, tgt_padding, memory_padding)
        return self.final_norm(x) if self.final_norm is not None else x


class Seq2Seq(nn.Module):
    """Set to set: the encoder reads the source, the decoder writes the target token by token
    (causal self-attention, cross-attention to the source), then the output projection (tied to
    the target embeddings where the model was trained so)."""

    def __init__(self, m, source_vocab, target_vocab):
        super().__init__()
        self.encoder = Encoder(m, source_vocab)
        self.decoder = Decoder(m, target_vocab)
        if m["tie_embeddings"]:
            self.generator_bias = nn.Parameter(torch.zeros(target_vocab))
        else:
            self.generator = nn.Linear(m["d_model"], target_vocab)

    def project(self, hidden):                                     # (B, T, D) -> (B, T, V)
        if hasattr(self, "generator"):
            return self.generator(hidden)
        return F.linear(hidden, self.decoder.embedding.word_embeddings.weight, self.generator_bias)

    def forward(self, src, tgt_in, src_padding=None, tgt_padding=None):
        memory = self.encoder(src, src_padding)
        return self.project(self.decoder(tgt_in, memory, tgt_padding, src_padding))


# ----- text in -------------------------------------------------------------------------------

def _lower(text, on):
    return "".join(chr(ord(c) + 32) if on and "A" <= c <= "Z" else c for c in text) if on else text


def tokenize(text, kind="whitespace", lowercase=True, ngrams=1):
    """attn's tokenizers: `whitespace` (the notebook's: split on whitespace) or `words` (IMDB's
    <br /> tags dropped, punctuation split off words); ASCII lower-casing; ngrams 2 adds the pair
    "previous_word" after each word from the second on."""
    space = " \t\n\v\f\r"
    out, cur = [], []

    def flush():
        if cur:
            out.append("".join(cur))
            cur.clear()
    i = 0
    while i < len(text):
        c = text[i]
        if kind == "whitespace":
            flush() if c in space else cur.append(_lower(c, lowercase))
        elif c == "<" and (text.startswith("<br />", i) or text.startswith("<br/>", i)):
            flush()
            i += 5 if text.startswith("<br />", i) else 4
        elif c in space:
            flush()
        elif (c.isascii() and c.isalnum()) or not c.isascii() or c == "'":
            cur.append(_lower(c, lowercase))
        else:
            flush()
            out.append(c)
        i += 1
    flush()
    if kind == "words":
        out = [t.strip("'") or "'" if len(t) > 1 and (t[0] == "'" or t[-1] == "'") else t for t in out]
    if ngrams < 2 or len(out) < 2:
        return out
    pairs = []
    for i, t in enumerate(out):
        pairs.append(t)
        if i > 0:
            pairs.append(out[i - 1] + "_" + t)
    return pairs


class WordCodec:
    def __init__(self, j):
        self.tokens, self.kind, self.lowercase = j["tokens"], j["tokenizer"], j["lowercase"]
        self.index = {t: i for i, t in enumerate(self.tokens)}

    def encode(self, text):
        return [self.index.get(t, 0) for t in tokenize(text, self.kind, self.lowercase)]

    def size(self):
        return len(self.tokens)

    def decode(self, ids):
        return " ".join(self.tokens[i] for i in ids if 4 <= i < len(self.tokens))


class SentencePieceCodec:
    def __init__(self, j):
        import sentencepiece  # Debian: python3-sentencepiece
        self.sp = sentencepiece.SentencePieceProcessor()
        self.sp.LoadFromSerializedProto(base64.b64decode(j["model"]))
        self.lowercase = j["lowercase"]

    def encode(self, text):
        return self.sp.EncodeAsIds(text.lower() if self.lowercase else text)

    def size(self):
        return self.sp.GetPieceSize()

    def decode(self, ids):
        return self.sp.DecodeIds([i for i in ids if 4 <= i < self.size()])


def codec(j):
    return WordCodec(j) if j["kind"] == "words" else SentencePieceCodec(j)


def codecs_of(about):
    """A seq2seq export's (source, target) codecs (one object when the vocabulary is joint), else
    (None, None)."""
    if about["config"]["task"] != "seq2seq":
        return None, None
    source = codec(about["codecs"]["source"])
    target = about["codecs"].get("target")
    return source, source if target is None else codec(target)


# ----- an export -----------------------------------------------------------------------------

_DTYPES = {"F64": torch.float64, "F32": torch.float32, "F16": torch.float16, "BF16": torch.bfloat16,
           "I64": torch.int64, "I32": torch.int32, "I16": torch.int16, "I8": torch.int8, "U8": torch.uint8,
           "BOOL": torch.bool}


def read_safetensors(path):
    """A safetensors file as {name: tensor}: an 8-byte little-endian header length, the JSON
    header (dtype, shape, data_offsets per tensor), then the little-endian data."""
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n])
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        begin, end = info["data_offsets"]
        raw = bytearray(data[8 + n + begin:8 + n + end])
        t = torch.frombuffer(raw, dtype=_DTYPES[info["dtype"]]) if raw else torch.empty(0, dtype=_DTYPES[info["dtype"]])
        out[name] = t.reshape(info["shape"])
    return out


class Export:
    """A model from `attn export` with what it takes to use it: config, vocabulary or codecs, labels."""

    def __init__(self, model, about, codecs=(None, None)):
        self.model, self.about, self.config = model.eval(), about, about["config"]
        data = self.config["data"]
        if self.config["task"] == "seq2seq":
            self.source, self.target = codecs
        else:
            self.vocab = {t: i for i, t in enumerate(about["vocab"])}
            self.labels = about["labels"]
            self.tokenizer = dict(kind=data["tokenizer"], lowercase=data["lowercase"], ngrams=data["ngrams"])

    def encode(self, text):
        """A classifier's input ids, as attn encodes them: tokens, cut to the evaluation length,
        at least one (<unk>)."""
        data = self.config["data"]
        ids = [self.vocab.get(t, 0) for t in tokenize(text, **self.tokenizer)]
        ids = ids[:data["eval_max_len"] or data["max_len"]] or [0]
        return ids

    def batch(self, texts):
        """(ids (B, T), key_padding_mask (B, T) or None) as attn's batches are built."""
        data = self.config["data"]
        encoded = [self.encode(t) for t in texts]
        T = data["max_len"] if data["fixed_length"] else max(len(e) for e in encoded)
        ids = torch.full((len(encoded), T), PAD, dtype=torch.long)
        for b, e in enumerate(encoded):
            ids[b, :len(e)] = torch.tensor(e[:T])
        lengths = torch.tensor([min(len(e), T) for e in encoded])
        mask = torch.arange(T).unsqueeze(0) >= lengths.unsqueeze(1) if data["mask_padding"] else None
        return ids, mask

    @torch.no_grad()
    def logits(self, texts):
        """A classifier's logits (B, C) for a batch of texts."""
        return self.model(*self.batch(texts))

    def predict(self, texts):
        """[(label, {label: probability}), ...]: attn predict's answers."""
        out = []
        for row in torch.softmax(self.logits(texts).double(), -1):
            probs = {label: float(p) for label, p in zip(self.labels, row)}
            out.append((self.labels[int(row.argmax())], probs))
        return out

    @torch.no_grad()
    def translate_ids(self, source_ids):
        """Greedy decoding of one source (token ids): the target ids, as attn's greedy search."""
        decode = self.config["decode"]
        m = self.config["model"]
        src = torch.tensor([source_ids], dtype=torch.long)
        limit = math.floor(decode["max_len_a"] * len(source_ids)) + decode["max_len_b"]
        if m["decoder_positions"] != "none":
            limit = min(limit, m["max_positions"])
        limit = max(limit, 1)
        memory = self.model.encoder(src)
        prefix, out = torch.tensor([[BOS]]), []
        for t in range(limit):
            logp = torch.log_softmax(self.model.project(self.model.decoder(prefix, memory))[:, -1], -1)[0]
            if t + 1 >= limit:
                token = EOS
            else:
                token = int(logp.argmax())
            if token == EOS:
                break
            out.append(token)
            prefix = torch.cat([prefix, torch.tensor([[token]])], 1)
        return out

    def translate(self, texts):
        return [self.target.decode(self.translate_ids(self.source.encode(t))) for t in texts]


def build(config, about, codecs=(None, None)):
    """The model an export's config describes, its sizes from the vocabulary and labels (classifier)
    or the codecs (seq2seq)."""
    m = dict(config["model"])
    m["scheduled_beta"] = about.get("state", {}).get("beta", 0)  # a beta schedule's, at these weights' step
    if config["task"] == "seq2seq":
        return Seq2Seq(m, codecs[0].size(), codecs[1].size())
    return TransformerClassifier(m, len(about["vocab"]), len(about["labels"]))


def load(path):
    """An export (PATH.pt or PATH.safetensors, with PATH.json beside it) as an Export."""
    stem = os.path.splitext(path)[0]
    with open(stem + ".json", encoding="utf-8") as f:
        about = json.load(f)
    state = read_safetensors(path) if path.endswith(".safetensors") else torch.load(path, weights_only=True)
    codecs = codecs_of(about)
    model = build(about["config"], about, codecs)
    model.load_state_dict(state, strict=True)
    return Export(model, about, codecs)


def main(argv):
    if len(argv) < 2 or argv[1] in ("-h", "--help"):
        print(__doc__.strip())
        return 0 if len(argv) >= 2 else 2
    export = load(argv[1])
    texts = argv[2:] or [line.rstrip("\n") for line in sys.stdin]
    if export.config["task"] == "seq2seq":
        for text, output in zip(texts, export.translate(texts)):
            print(json.dumps({"input": text, "output": output}, ensure_ascii=False))
    else:
        for text, (label, probs) in zip(texts, export.predict(texts)):
            print(json.dumps({"input": text, "label": label, "probs": probs}, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
