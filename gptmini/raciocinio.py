"""Raciocínio: problemas com resposta verificável, o verificador, pass@k e o GRPO.

Gerado das células "#| export raciocinio" de 09-raciocinio por ferramentas/sincronizar.py:
edite os notebooks, não este arquivo.
"""

import random
import re
import time
from collections import defaultdict
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from tqdm import tqdm

from .modelo import PRETRAINED, generate_batch
from .treino import copy_weights, optimizer_step
from .instrucoes import IGNORE_INDEX, collate_instructions, format_instruction, generate_responses, respond, set_dropout


# Quem aparece nos problemas: (nome, gênero). O gênero escolhe "ele" ou "ela".
NAMES = [("Ana", "f"), ("Pedro", "m"), ("Júlia", "f"), ("Lucas", "m"), ("Marina", "f"), ("Rafael", "m"),
         ("Beatriz", "f"), ("Gabriel", "m"), ("Laura", "f"), ("Mateus", "m"), ("Sofia", "f"), ("Davi", "m"),
         ("Helena", "f"), ("Tiago", "m"), ("Clara", "f"), ("Bruno", "m"), ("Lívia", "f"), ("Caio", "m"),
         ("Alice", "f"), ("João", "m"), ("Isabela", "f"), ("Miguel", "m"), ("Valentina", "f"), ("Enzo", "m"),
         ("Dona Rosa", "f"), ("Seu Antônio", "m"), ("Luna", "f"), ("Heitor", "m"), ("Manuela", "f"), ("Otávio", "m")]


# O que se conta: (singular, plural, gênero). O gênero escolhe "quantos" ou "quantas".
THINGS = [("bala", "balas", "f"), ("figurinha", "figurinhas", "f"), ("livro", "livros", "m"),
          ("laranja", "laranjas", "f"), ("moeda", "moedas", "f"), ("lápis", "lápis", "m"),
          ("bolinha de gude", "bolinhas de gude", "f"), ("maçã", "maçãs", "f"), ("pão", "pães", "m"),
          ("ovo", "ovos", "m"), ("carrinho", "carrinhos", "m"), ("flor", "flores", "f"),
          ("biscoito", "biscoitos", "m"), ("caderno", "cadernos", "m"), ("pipa", "pipas", "f"),
          ("banana", "bananas", "f"), ("selo", "selos", "m"), ("boneca", "bonecas", "f"),
          ("peixe", "peixes", "m"), ("tampinha", "tampinhas", "f"), ("brigadeiro", "brigadeiros", "m"),
          ("manga", "mangas", "f"), ("adesivo", "adesivos", "m"), ("caneta", "canetas", "f")]


FOOD = {"bala", "laranja", "maçã", "pão", "biscoito", "banana", "brigadeiro", "manga"}


START = ["{nome} tinha {n} {coisas}.", "{nome} tem {n} {coisas}.", "{nome} começou o dia com {n} {coisas}.",
         "Numa caixa, {nome} guardava {n} {coisas}.", "{nome} juntou {n} {coisas}."]


FIRST_EVENT = ["Depois", "Então", "Naquela tarde", "Na escola", "De manhã"]


GAIN = ["ganhou {n}", "comprou mais {n}", "recebeu {n} de presente", "ganhou mais {n}", "achou {n}", "pegou mais {n}",
        "recebeu mais {n} de {outro}", "encontrou {n}", "trouxe mais {n}"]


LOSS = ["deu {n} para {outro}", "perdeu {n}", "deu {n}", "vendeu {n}", "emprestou {n} para {outro}", "usou {n}",
        "esqueceu {n} na escola", "jogou fora {n}", "comeu {n}"]


QUESTION = ["Quant{a}s {coisas} {ele} tem agora?", "Com quant{a}s {coisas} {ele} ficou?",
            "Quant{a}s {coisas} {nome} tem no fim?", "No fim, quant{a}s {coisas} {nome} tem?"]


STEPS = (1, 2, 3)


# Os modelos publicados deste capítulo: a lista do capítulo 04 vai até o 07, e este capítulo acrescenta os seus.
PRETRAINED.update(raciocinio_sft="modelos/raciocinio_sft.pt", raciocinio="modelos/raciocinio.pt")


def make_problem(steps: int, rng: random.Random) -> dict:
    """Um problema de `steps` passos (somas e subtrações de 1 a 9 sobre um total de 5 a 20): o enunciado,
    a solução em contas, uma por linha, terminada em "Resposta: N", e a resposta."""
    nome, genero = rng.choice(NAMES)
    singular, coisas, genero_coisa = rng.choice(THINGS)
    outro = rng.choice([n for n, _ in NAMES if n != nome])
    ele = "ela" if genero == "f" else "ele"
    total = rng.randint(5, 20)
    text, lines = rng.choice(START).format(nome=nome, n=total, coisas=coisas), []
    for k in range(steps):
        if total <= 3 or (total < 30 and rng.random() < 0.5):  # soma; o total nunca fica negativo
            n = rng.randint(1, 9)
            event, new = rng.choice(GAIN), total + n
            lines.append(f"{total} + {n} = {new}")
        else:
            n = rng.randint(1, min(9, total - 1))
            event, new = rng.choice([e for e in LOSS if e != "comeu {n}" or singular in FOOD]), total - n
            lines.append(f"{total} - {n} = {new}")
        event = event.format(n=n, outro=outro)
        text += (f" {rng.choice(FIRST_EVENT)}, {ele} {event}" if k == 0
                 else f" e {event}" if k == steps - 1 else f", {event}")
        total = new
    questions = QUESTION + (["Quant{a}s {coisas} sobraram para {nome}?"] if "-" in lines[-1] else [])
    text += ". " + rng.choice(questions).format(a="a" if genero_coisa == "f" else "o", coisas=coisas, ele=ele,
                                               nome=nome)
    return {"problema": text, "solucao": "\n".join(lines) + f"\nResposta: {total}", "resposta": total,
            "passos": steps}


def make_problems(n: int, seed: int, exclude: set[str] = frozenset()) -> list[dict]:
    """`n` problemas diferentes, um terço de cada número de passos, sorteados de um jeito que só depende de `seed`;
    nenhum com enunciado em `exclude`."""
    rng, seen, problems = random.Random(seed), set(exclude), []
    while len(problems) < n:
        problem = make_problem(STEPS[len(problems) % len(STEPS)], rng)
        if problem["problema"] not in seen:
            seen.add(problem["problema"])
            problems.append(problem)
    return problems


def problem_splits(n_train: int = 8000, n_val: int = 300, n_test: int = 600) -> dict[str, list[dict]]:
    """As partições fixas: teste e validação sorteados primeiro, e o treino sem nenhum enunciado deles."""
    test = make_problems(n_test, seed=2)
    val = make_problems(n_val, seed=1, exclude={p["problema"] for p in test})
    train = make_problems(n_train, seed=0, exclude={p["problema"] for p in test + val})
    return {"treino": train, "validacao": val, "teste": test}


ANSWER = re.compile(r"Resposta:\s*(-?\d+)")


def extract_answer(text: str) -> int | None:
    """O número depois do último "Resposta:" do texto, ou None se o texto não tiver resposta."""
    if not isinstance(text, str):
        raise TypeError(f"text deve ser um texto (str), não {type(text).__name__}.")
    found = ANSWER.findall(text)
    return int(found[-1]) if found else None


def reward(text: str, answer: int) -> float:
    """A recompensa verificável: 1 se a resposta final está certa, 0 se não (ou se não há resposta)."""
    return float(extract_answer(text) == answer)


def solve(model, tokenizer, problem: str, max_new_tokens: int = 64) -> str:
    """A resposta completa do modelo ao problema (gulosa, até o <|endoftext|>): as contas e "Resposta: N"."""
    if not isinstance(problem, str) or not problem.strip():
        raise TypeError("problem deve ser o enunciado do problema, um texto (str) não vazio.")
    return respond(model, tokenizer, problem, max_new_tokens=max_new_tokens)


def accuracy_by_steps(problems: list[dict], correct: list[bool]) -> dict[int, float]:
    """A fração de acertos para cada número de passos."""
    hits, counts = defaultdict(int), defaultdict(int)
    for problem, ok in zip(problems, correct, strict=True):
        counts[problem["passos"]] += 1
        hits[problem["passos"]] += bool(ok)
    return {s: hits[s] / counts[s] for s in sorted(counts)}


@torch.no_grad()
def pass_at_k(model, tokenizer, problems: list[dict], k: int = 8, temperature: float = 1.0, seed: int = 0,
              max_new_tokens: int = 64) -> dict[int, float]:
    """pass@k por número de passos: a fração de problemas em que pelo menos uma de k respostas sorteadas acerta.
    Com k=1 e temperatura 0, é o acerto da resposta gulosa."""
    generator = torch.Generator(device=next(model.parameters()).device).manual_seed(seed)
    requests = [(p["problema"], "") for p in problems for _ in range(k)]
    answers = generate_responses(model, tokenizer, requests, max_new_tokens, batch_size=128,
                                 temperature=temperature, generator=generator if temperature > 0 else None)
    hits = [any(extract_answer(text) == p["resposta"] for text, _ in answers[i * k:(i + 1) * k])
            for i, p in enumerate(problems)]
    return accuracy_by_steps(problems, hits)


def as_instruction(problem: dict, show_work: bool = True) -> dict:
    """O problema no formato de instrução do capítulo 07: a resposta é a solução com as contas ou, com
    show_work=False, só a linha final, como num gabarito."""
    answer = problem["solucao"] if show_work else f"Resposta: {problem['resposta']}"
    return {"instrucao": problem["problema"], "entrada": "", "resposta": answer}


def warm_start_examples(problems: list[dict], answer_only: float = 0.5, seed: int = 0) -> list[dict]:
    """Os exemplos da partida a quente: uma fração `answer_only` dos problemas vem só com a resposta (o gabarito),
    o resto com as contas, sorteados de um jeito que só depende de `seed`."""
    rng = random.Random(seed)
    return [as_instruction(p, show_work=rng.random() >= answer_only) for p in problems]


WORK_LINE = re.compile(r"^\s*\d+ [+-] \d+ = -?\d+\s*$", re.MULTILINE)


def shows_work(text: str) -> bool:
    """Se a resposta escreve pelo menos uma conta ("12 - 5 = 7") antes da resposta final."""
    return WORK_LINE.search(text) is not None


@dataclass
class GRPOConfig:
    steps: int = 60
    problems_per_step: int = 16
    group_size: int = 8  # G: respostas sorteadas por problema
    lr: float = 0.1  # SGD (veja o texto): o passo é proporcional ao gradiente
    temperature: float = 1.0
    max_new_tokens: int = 64
    scale_by_std: bool = False  # dividir a vantagem pelo desvio do grupo (o GRPO original) ou não
    grad_clip: float = 1.0
    eval_interval: int = 20
    seed: int = 0


def group_advantages(rewards: torch.Tensor, scale_by_std: bool = False) -> torch.Tensor:
    """Vantagem de cada resposta: a recompensa menos a média do seu grupo (linhas = problemas, colunas = respostas).
    Um grupo em que todas acertam, ou todas erram, tem vantagem zero: não ensina nada."""
    advantages = rewards - rewards.mean(dim=1, keepdim=True)
    if scale_by_std:
        advantages = advantages / (rewards.std(dim=1, keepdim=True) + 1e-4)
    return advantages


def sample_groups(model, tokenizer, problems: list[dict], cfg: GRPOConfig, generator,
                  reward_fn=reward) -> tuple[list, list, torch.Tensor]:
    """G respostas sorteadas para cada problema, todas num lote só (KV cache): os prompts, as respostas em ids (com
    o <|endoftext|> quando o modelo parou) e as recompensas (problemas × G), dadas por reward_fn(texto, resposta)."""
    eot = tokenizer.eot_token
    prompts = [tokenizer.encode_ordinary(format_instruction(p["problema"])) for p in problems]
    rows = [ids for ids in prompts for _ in range(cfg.group_size)]
    answers = generate_batch(model, rows, cfg.max_new_tokens, cfg.temperature, eos_id=eot, generator=generator)
    rewards = torch.tensor([reward_fn(tokenizer.decode(ids), problems[i // cfg.group_size]["resposta"])
                            for i, ids in enumerate(answers)]).view(len(problems), cfg.group_size)
    answers = [ids + [eot] if len(ids) < cfg.max_new_tokens else ids for ids in answers]
    return rows, answers, rewards


def policy_loss(model, rows: list[list[int]], answers: list[list[int]], advantages: torch.Tensor,
                pad_id: int) -> torch.Tensor:
    """A perda do gradiente de política: -vantagem × log-probabilidade de cada token da resposta, na média de todos
    os tokens de resposta do lote. Os tokens do prompt ficam fora, com a mesma máscara do capítulo 07."""
    device = next(model.parameters()).device
    x, y = collate_instructions([(r + a, len(r)) for r, a in zip(rows, answers)], pad_id, model.config.context_length)
    x, y = x.to(device), y.to(device)
    logits = model(x)
    logp = -F.cross_entropy(logits.flatten(0, 1).float(), y.flatten(), reduction="none").view(y.shape)
    mask = y != IGNORE_INDEX
    return -(advantages.to(device)[:, None] * logp * mask).sum() / mask.sum()


def train_grpo(model, tokenizer, train: list[dict], val: list[dict], cfg: GRPOConfig, progress: bool = True,
               reward_fn=reward, keep_best: bool = False) -> dict:
    """GRPO: a cada passo, sorteia problemas, G respostas para cada um, recompensa, vantagem contra a média do grupo e
    um passo de gradiente na perda da política. Sem modelo de referência nem termo de KL (veja o texto). Com
    keep_best, volta no fim aos pesos da avaliação de maior acerto guloso médio na validação (history["best_step"])."""
    set_dropout(model, 0.0)  # sem dropout, a política que sorteia é a mesma que recebe o gradiente
    device = next(model.parameters()).device
    rng = random.Random(cfg.seed)
    generator = torch.Generator(device=device).manual_seed(cfg.seed)
    optimizer = torch.optim.SGD(model.parameters(), lr=cfg.lr)
    no_scaling = torch.amp.GradScaler("cuda", enabled=False)  # fp32: o passo sem escala
    history = {"step": [], "reward": [], "length": [], "shows_work": [], "val_step": [], "val_pass1": [],
               "seconds": 0.0, "best_step": None}
    best_score, best_weights = -1.0, None
    start = time.perf_counter()
    bar = tqdm(range(1, cfg.steps + 1), desc="GRPO", disable=not progress, mininterval=2)
    for step in bar:
        problems = rng.sample(train, cfg.problems_per_step)
        rows, answers, rewards = sample_groups(model, tokenizer, problems, cfg, generator, reward_fn)
        advantages = group_advantages(rewards, cfg.scale_by_std).flatten()
        useful = [i for i in range(len(rows)) if advantages[i] != 0]  # grupos mistos: os únicos que ensinam
        if useful:
            model.train()
            loss = policy_loss(model, [rows[i] for i in useful], [answers[i] for i in useful], advantages[useful],
                               tokenizer.eot_token)
            optimizer_step(model, optimizer, no_scaling, loss, cfg.grad_clip)  # o passo do capítulo 05
        history["step"].append(step)
        history["reward"].append(rewards.mean().item())
        history["length"].append(sum(map(len, answers)) / len(answers))
        history["shows_work"].append(sum(shows_work(tokenizer.decode(a)) for a in answers) / len(answers))
        bar.set_postfix(recompensa=f"{history['reward'][-1]:.2f}")
        if step % cfg.eval_interval == 0 or step == cfg.steps:
            accuracy = pass_at_k(model, tokenizer, val, k=1, temperature=0.0)
            history["val_step"].append(step)
            history["val_pass1"].append(accuracy)
            score = sum(accuracy.values()) / len(accuracy)
            if keep_best and score > best_score:  # o reforço oscila: guardamos a melhor avaliação
                best_score, best_weights, history["best_step"] = score, copy_weights(model), step
            bar.write(f"passo {step:>3}: acerto guloso na validação " +
                      " · ".join(f"{s} passo{'s' * (s > 1)} {a:.0%}" for s, a in accuracy.items()))
    bar.close()
    if best_weights is not None:
        model.load_state_dict(best_weights)
    history["seconds"] = time.perf_counter() - start
    return history
