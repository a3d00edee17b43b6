"""Instruções: o formato, a máscara das respostas, o SFT e a avaliação.

Gerado das células "#| export instrucoes" de 07-instruction-tuning por ferramentas/sincronizar.py:
edite os notebooks, não este arquivo.
"""

import dataclasses
import math
import re
import time
from collections import Counter, defaultdict

import torch
import torch.nn.functional as F
from tqdm import tqdm

from .modelo import GPTMini, eval_mode, generate_batch
from .treino import (
    TrainConfig,
    autocast_context,
    configure_optimizer,
    copy_weights,
    learning_rate,
    optimizer_step,
    set_learning_rate,
)


IGNORE_INDEX = -100  # alvos com este valor não entram na perda (o padrão de F.cross_entropy)


VERIFIABLE_FAMILIES = ("plural", "antonimo", "soma", "subtracao", "capital_estado", "capital_pais", "sentimento")


def format_instruction(instruction: str, input: str = "") -> str:
    """O texto que o modelo ajustado recebe: instrução, entrada opcional e o começo da resposta."""
    text = f"### Instrução:\n{instruction.strip()}\n\n"
    if input.strip():
        text += f"### Entrada:\n{input.strip()}\n\n"
    return text + "### Resposta:\n"


def encode_instruction(tokenizer, entry: dict) -> tuple[list[int], int]:
    """Tokens do exemplo formatado com a resposta e <|endoftext|>, e quantos deles são o prompt."""
    prompt = tokenizer.encode_ordinary(format_instruction(entry["instrucao"], entry["entrada"]))
    response = tokenizer.encode_ordinary(entry["resposta"]) + [tokenizer.eot_token]
    return prompt + response, len(prompt)


def collate_instructions(examples: list[tuple[list[int], int]], pad_id: int, max_length: int,
                         mask_prompt: bool = True) -> tuple[torch.Tensor, torch.Tensor]:
    """Entradas e alvos (lote, tokens), com enchimento à direita e IGNORE_INDEX nos alvos que não
    contam: o enchimento e, se mask_prompt, a instrução e a entrada. Corta em max_length tokens."""
    length = min(max(len(ids) for ids, _ in examples) - 1, max_length)
    inputs = torch.full((len(examples), length), pad_id, dtype=torch.long)
    targets = torch.full((len(examples), length), IGNORE_INDEX, dtype=torch.long)
    for i, (ids, n_prompt) in enumerate(examples):
        ids = ids[: length + 1]
        inputs[i, : len(ids) - 1] = torch.tensor(ids[:-1])
        targets[i, : len(ids) - 1] = torch.tensor(ids[1:])
        if mask_prompt:  # o alvo da posição t é o token t + 1: os n_prompt - 1 primeiros são do prompt
            targets[i, : n_prompt - 1] = IGNORE_INDEX
    return inputs, targets


def instruction_batches(examples, batch_size: int, epoch: int, seed: int):
    """Os lotes de uma época, sorteados de um jeito que só depende de (seed, época). Exemplos de
    tamanho parecido vão para o mesmo lote (ordenamos blocos de 50 lotes por tamanho): uma conta de
    30 tokens não é completada até os 128 de uma receita, e o enchimento não gasta conta à toa."""
    order = torch.randperm(len(examples), generator=torch.Generator().manual_seed(seed + epoch)).tolist()
    block = 50 * batch_size
    batches = []
    for start in range(0, len(order), block):
        by_length = sorted(order[start:start + block], key=lambda i: len(examples[i][0]))
        batches += [by_length[i:i + batch_size] for i in range(0, len(by_length), batch_size)]
    for b in torch.randperm(len(batches), generator=torch.Generator().manual_seed(seed + epoch)).tolist():
        yield [examples[i] for i in batches[b]]


def set_dropout(model: GPTMini, p: float) -> GPTMini:
    """Troca a taxa de dropout de todas as camadas (o ajuste fino pede menos que o pré-treino)."""
    for module in model.modules():
        if isinstance(module, torch.nn.Dropout):
            module.p = p
        elif isinstance(getattr(module, "dropout", None), float):  # a atenção passa a taxa para a SDPA
            module.dropout = p
    model.config = dataclasses.replace(model.config, dropout=p)  # uma cópia: a config pode ser compartilhada
    return model


@torch.no_grad()
def response_loss(model: GPTMini, examples, pad_id: int, device, batch_size: int = 32) -> float:
    """Perda média só nos tokens da resposta (a mesma medida para modelos treinados com ou sem máscara)."""
    total, count = 0.0, 0
    with eval_mode(model):
        for start in range(0, len(examples), batch_size):
            x, y = collate_instructions(examples[start:start + batch_size], pad_id, model.config.context_length)
            logits = model(x.to(device))
            total += F.cross_entropy(logits.flatten(0, 1).float(), y.to(device).flatten(), reduction="sum").item()
            count += int((y != IGNORE_INDEX).sum())
    return total / count


def train_sft(model: GPTMini, tokenizer, train_entries: list[dict], val_entries: list[dict], cfg: TrainConfig,
              device, mask_prompt: bool = True, progress: bool = True, val_score=None) -> dict:
    """Ajuste fino supervisionado por instruções; devolve o histórico de perdas. Com `val_score` (uma
    função do modelo que devolve uma nota na validação, maior é melhor), mede a nota a cada avaliação e
    termina com os pesos da avaliação de maior nota, como o classificador do capítulo 06."""
    examples = [encode_instruction(tokenizer, e) for e in train_entries]
    val_examples = [encode_instruction(tokenizer, e) for e in val_entries]
    steps_per_epoch = math.ceil(len(examples) / cfg.batch_size)
    optimizer = configure_optimizer(model, cfg, device)
    autocast, dtype = autocast_context(device)
    scaler = torch.amp.GradScaler("cuda", enabled=dtype == torch.float16)
    history = {"step": [], "train_loss": [], "val_step": [], "val_loss": [], "val_score": [], "seconds": 0.0}
    model.train()
    start, step = time.perf_counter(), 0
    bar = tqdm(total=cfg.max_steps, desc="SFT", disable=not progress, mininterval=2)
    while step < cfg.max_steps:
        for batch in instruction_batches(examples, cfg.batch_size, step // steps_per_epoch, cfg.seed):
            if step >= cfg.max_steps:
                break
            set_learning_rate(optimizer, learning_rate(step, cfg))
            x, y = collate_instructions(batch, tokenizer.eot_token, model.config.context_length, mask_prompt)
            with autocast:
                logits = model(x.to(device))
            loss = F.cross_entropy(logits.flatten(0, 1).float(), y.to(device).flatten())
            optimizer_step(model, optimizer, scaler, loss, cfg.grad_clip)  # o mesmo passo do capítulo 05
            step += 1  # passos feitos até aqui, contados a partir de 1 como no capítulo 05
            history["step"].append(step)
            history["train_loss"].append(loss.item())
            bar.update()
            bar.set_postfix(perda=f"{loss.item():.3f}")
            if step % cfg.eval_interval == 0 or step == cfg.max_steps:
                history["val_step"].append(step)
                history["val_loss"].append(response_loss(model, val_examples, tokenizer.eot_token, device))
                bar.write(f"passo {step:>4}: perda na validação (só respostas) {history['val_loss'][-1]:.3f}")
                if val_score is not None:
                    with eval_mode(model):
                        history["val_score"].append(val_score(model))
                    bar.write(f"passo {step:>4}: nota na validação {history['val_score'][-1]:.3f}")
                    if history["val_score"][-1] > max(history["val_score"][:-1], default=-math.inf):
                        history["best_step"] = step
                        best_state = copy_weights(model)  # a melhor avaliação até aqui
    bar.close()
    if val_score is not None:
        model.load_state_dict(best_state)
    history["seconds"] = time.perf_counter() - start
    return history


@torch.no_grad()
def generate_responses(model: GPTMini, tokenizer, requests: list[tuple[str, str]], max_new_tokens: int = 200,
                       batch_size: int = 32, temperature: float = 0.0, top_k: int | None = None,
                       top_p: float | None = None, generator: torch.Generator | None = None,
                       progress: bool = False, no_repeat_ngram: int | None = None) -> list[tuple[str, bool]]:
    """Para cada (instrução, entrada): a resposta e se o modelo parou sozinho com <|endoftext|>. Gera em
    lotes de prompts de tamanho parecido (menos enchimento); gulosa por padrão."""
    for instruction, input in requests:
        for name, value in (("instruction", instruction), ("input", input)):
            if not isinstance(value, str):
                raise TypeError(f"{name} deve ser um texto (str), não {type(value).__name__}.")
    prompts = [tokenizer.encode_ordinary(format_instruction(i, e)) for i, e in requests]
    order = sorted(range(len(prompts)), key=lambda k: len(prompts[k]))
    answers: list[tuple[str, bool]] = [("", False)] * len(prompts)
    for start in tqdm(range(0, len(order), batch_size), desc="gerando", disable=not progress, mininterval=2):
        chunk = order[start:start + batch_size]
        new = generate_batch(model, [prompts[k] for k in chunk], max_new_tokens, temperature, top_k, top_p,
                             eos_id=tokenizer.eot_token, generator=generator, no_repeat_ngram=no_repeat_ngram)
        for k, ids in zip(chunk, new):  # generate_batch tira o <|endoftext|>: parou se sobrou espaço
            answers[k] = (tokenizer.decode(ids).strip(), len(ids) < max_new_tokens)
    return answers


def generate_response(model: GPTMini, tokenizer, instruction: str, input: str = "", max_new_tokens: int = 200,
                      **sampling) -> tuple[str, bool]:
    """A resposta (gulosa, se `sampling` não disser outra coisa) e se o modelo parou sozinho."""
    return generate_responses(model, tokenizer, [(instruction, input)], max_new_tokens, **sampling)[0]


def respond(model: GPTMini, tokenizer, instruction: str, input: str = "", max_new_tokens: int = 200,
            **sampling) -> str:
    """A resposta do modelo à instrução (gulosa, até o <|endoftext|>). `sampling` aceita temperature,
    top_k, top_p e generator, como generate, e no_repeat_ngram, a guarda contra laços de generate_batch."""
    return generate_response(model, tokenizer, instruction, input, max_new_tokens, **sampling)[0]


def respond_batch(model: GPTMini, tokenizer, instructions: list[str], inputs: list[str] | None = None,
                  max_new_tokens: int = 200, **sampling) -> list[str]:
    """As respostas a várias instruções de uma vez (em lote): o mesmo que chamar respond para cada uma."""
    inputs = [""] * len(instructions) if inputs is None else inputs
    if len(inputs) != len(instructions):
        raise ValueError(f"{len(instructions)} instruções e {len(inputs)} entradas: passe uma entrada para cada.")
    return [text for text, _ in generate_responses(model, tokenizer, list(zip(instructions, inputs)),
                                                   max_new_tokens, **sampling)]


def normalize_answer(text: str) -> str:
    return re.sub(r"[\s.!\"']+$", "", text.strip().lower()).strip()


def constant_answer_accuracy(entries: list[dict], answer: str) -> float:
    """Quanto acerta responder sempre `answer`, sem ler a instrução: a régua de um acerto exato."""
    return sum(normalize_answer(e["resposta"]) == normalize_answer(answer) for e in entries) / max(len(entries), 1)


def has_loop(text: str, n: int = 4, times: int = 3) -> bool:
    """Se a resposta anda em círculos: uma linha, ou uma sequência de `n` palavras, repetida `times` vezes ou mais."""
    lines = Counter(line.strip() for line in text.splitlines() if line.strip())
    words = text.split()
    ngrams = Counter(tuple(words[i:i + n]) for i in range(len(words) - n + 1))
    return any(count >= times for count in (*lines.values(), *ngrams.values()))


def instruction_metrics(model: GPTMini, tokenizer, entries: list[dict], max_new_tokens: int = 200,
                        progress: bool = True, **sampling) -> dict:
    """Acerto exato por família verificável e as taxas de parada com <|endoftext|>, de respostas sem '###' e
    de respostas em laço (has_loop). Gulosa, se `sampling` (as opções de respond) não disser outra coisa."""
    hits, counts, stopped, on_response, loops, outputs = defaultdict(int), defaultdict(int), 0, 0, 0, []
    answers = generate_responses(model, tokenizer, [(e["instrucao"], e["entrada"]) for e in entries], max_new_tokens,
                                 progress=progress, **sampling)
    for e, (text, stop) in zip(entries, answers):
        outputs.append(text)
        stopped += stop
        on_response += "###" not in text
        loops += has_loop(text)
        if e["familia"] in VERIFIABLE_FAMILIES:
            counts[e["familia"]] += 1
            hits[e["familia"]] += normalize_answer(text) == normalize_answer(e["resposta"])
    exact = {f: hits[f] / counts[f] for f in VERIFIABLE_FAMILIES if counts[f]}
    total = sum(counts.values())
    return {"acerto_exato": exact, "acerto_exato_geral": sum(hits.values()) / total if total else 0.0,
            "parou_com_eot": stopped / len(entries), "ficou_na_resposta": on_response / len(entries),
            "com_laco": loops / len(entries), "respostas": outputs}
