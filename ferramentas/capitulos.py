"""Os capítulos do curso, em ordem: a única lista que as ferramentas consultam."""

from dataclasses import dataclass
from pathlib import Path

RAIZ = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Capitulo:
    pasta: str  # "03-atencao"
    modulo: str  # módulo de gptmini/ que as células "#| export" do notebook geram
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
    Capitulo("00-setup", "ambiente", "A oficina: ambiente, tensores e o primeiro loop de treino",
             _MEDIUM + "fazendo-um-llm-do-zero-00-antes-da-inteligência-a-oficina-️-84ee8926863e"),
    Capitulo("01-intro", "intro", "O que é um LLM: prever a próxima palavra",
             _MEDIUM + "fazendo-um-llm-do-zero-01-a-mágica-é-apenas-estatística-bem-feita-0843ae21714a"),
    Capitulo("02-tokenizacao", "tokenizacao", "Tokenização: de palavras a números",
             _MEDIUM + "fazendo-um-llm-do-zero-02-como-transformar-palavras-em-números-sem-perder-a-alma-fc8970ca2dd5"),
    Capitulo("03-atencao", "atencao", "Atenção, passo a passo",
             _MEDIUM + "fazendo-um-llm-do-zero-03-atenção-é-tudo-o-que-você-precisa-7890b732cc3d"),
    Capitulo("04-gpt", "modelo", "A arquitetura do GPT",
             _MEDIUM + "fazendo-um-llm-do-zero-sessão-04-a-arquitetura-da-mente-construindo-o-corpo-do-gpt-️-ddd1d8dba397"),
    Capitulo("05-pretreino", "pretreino", "Pré-treino: ensinando o modelo a falar",
             _MEDIUM + "fazendo-um-llm-do-zero-sessão-05-ensinando-o-modelo-a-falar-a-escola-da-probabilidade-️-d0da53964678"),
    Capitulo("06-classificacao", "classificacao", "Classificação: um detector de spam",
             _MEDIUM + "fazendo-um-llm-do-zero-sessão-06-dando-uma-profissão-ao-modelo-fine-tuning-️-f842094b9185"),
    Capitulo("07-instruction-tuning", "instrucoes", "Instruction tuning: de gerador de texto a assistente",
             _MEDIUM + "fazendo-um-llm-do-zero-sessão-07-de-gerador-de-texto-a-assistente-instruction-tuning-1a0a77d9994a"),
]


def existentes() -> list[Capitulo]:
    """Os capítulos cujo notebook já existe no repositório."""
    return [c for c in CAPITULOS if c.notebook.exists()]
