"""Os capítulos do curso, em ordem (a única lista que as ferramentas consultam), e a leitura e a
escrita dos notebooks como JSON, do jeito que o Jupyter grava."""

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

RAIZ = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Capitulo:
    pasta: str  # "03-atencao"
    titulo: str
    post: str  # o post do Medium que acompanha o capítulo

    @property
    def numero(self) -> str:
        return self.pasta[:2]

    @property
    def notebook(self) -> Path:
        return RAIZ / self.pasta / "notebook.ipynb"


_MEDIUM = "https://medium.com/@angelovongrossi/"
CAPITULOS = [
    Capitulo("00-setup", "A oficina: ambiente, tensores e o primeiro loop de treino",
             _MEDIUM + "fazendo-um-llm-do-zero-00-antes-da-inteligência-a-oficina-️-84ee8926863e"),
    Capitulo("01-intro", "O que é um LLM: prever a próxima palavra",
             _MEDIUM + "fazendo-um-llm-do-zero-01-a-mágica-é-apenas-estatística-bem-feita-0843ae21714a"),
    Capitulo("02-tokenizacao", "Tokenização: de palavras a números",
             _MEDIUM + "fazendo-um-llm-do-zero-02-como-transformar-palavras-em-números-sem-perder-a-alma-fc8970ca2dd5"),
    Capitulo("03-atencao", "Atenção, passo a passo",
             _MEDIUM + "fazendo-um-llm-do-zero-03-atenção-é-tudo-o-que-você-precisa-7890b732cc3d"),
    Capitulo("04-gpt", "A arquitetura do GPT",
             _MEDIUM + "fazendo-um-llm-do-zero-sessão-04-a-arquitetura-da-mente-construindo-o-corpo-do-gpt-️-ddd1d8dba397"),
    Capitulo("05-pretreino", "Pré-treino: ensinando o modelo a falar",
             _MEDIUM + "fazendo-um-llm-do-zero-sessão-05-ensinando-o-modelo-a-falar-a-escola-da-probabilidade-️-d0da53964678"),
    Capitulo("06-classificacao", "Classificação: um detector de spam",
             _MEDIUM + "fazendo-um-llm-do-zero-sessão-06-dando-uma-profissão-ao-modelo-fine-tuning-️-f842094b9185"),
    Capitulo("07-instruction-tuning", "Instruction tuning: de gerador de texto a assistente",
             _MEDIUM + "fazendo-um-llm-do-zero-sessão-07-de-gerador-de-texto-a-assistente-instruction-tuning-1a0a77d9994a"),
    Capitulo("08-preferencias", "Preferências: do modelo de recompensa ao DPO", ""),  # ainda sem post
    Capitulo("09-raciocinio", "Raciocínio com recompensas verificáveis: GRPO", ""),  # ainda sem post
]


def existentes() -> list[Capitulo]:
    """Os capítulos cujo notebook já existe no repositório."""
    return [c for c in CAPITULOS if c.notebook.exists()]


def ler_notebook(caminho: Path) -> dict:
    return json.loads(caminho.read_text(encoding="utf-8"))


def texto_notebook(nb: dict) -> str:
    """Serializa exatamente como o Jupyter salva, para que salvar no Jupyter não mude nada."""
    import nbformat

    texto = nbformat.writes(nbformat.from_dict(nb))
    return texto if texto.endswith("\n") else texto + "\n"


def fonte(celula: dict) -> str:
    src = celula.get("source", "")
    return "".join(src) if isinstance(src, list) else src


def tags(celula: dict) -> list[str]:
    return celula.get("metadata", {}).get("tags", [])


def hash_codigo(nb: dict) -> str:
    """Impressão digital das células de código: muda quando qualquer código muda."""
    h = hashlib.sha256()
    for c in nb["cells"]:
        if c["cell_type"] == "code":
            h.update(fonte(c).encode("utf-8") + b"\x00")
    return h.hexdigest()
