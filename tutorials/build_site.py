#!/usr/bin/env python3
"""Builds the course site (MkDocs + Material + mkdocs-jupyter) into tutorials/_build/site.

    .venv/bin/python tutorials/build_site.py [--strict] [--require-outputs] [--execute]

Steps:
  1. assembles the MkDocs source folder tutorials/_build/docs from
     - the hand-written pages of tutorials/docs/ (home, glossary, ...);
     - every notebook of notebooks/: the executed copy in tutorials/_build/executed/ when there is
       one whose cells are the notebook's current cells (`make test-notebooks` and `make site`
       write them there with scripts/nbtest.py --out), else the notebook itself, without outputs,
       with a note at its top that says so; links between notebooks and to project files are
       rewritten to the site's pages, and a link the site cannot resolve is an error;
     - pages generated from the published measurements of results/: one per family (metrics,
       samples, curves, the command), the comparison table and the audits;
  2. runs `mkdocs build` (with --strict: any warning, such as a broken link, fails the build).

With --execute, notebooks whose executed copy is missing or stale are first executed with
scripts/nbtest.py (the `ci` profile; minutes each, 04 and 07 much longer). With
--require-outputs, a notebook without an up-to-date executed copy is an error instead of a note.
Exit status: 0 when the site was built, 1 otherwise.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
BUILD = os.path.join(HERE, "_build")
DOCS = os.path.join(BUILD, "docs")
EXECUTED = os.path.join(BUILD, "executed")
NOTEBOOKS = os.path.join(ROOT, "notebooks")
RESULTS = os.path.join(ROOT, "results")
VENV_BIN = os.path.join(ROOT, ".venv", "bin")

# Published results shown on the site: folder under results/, page name, title, notebook.
FAMILIES = [
    ("classifier/small", "clasificador", "Clasificador de referencia", "00_inicio"),
    ("gan/small", "gan", "GAN", "01_gan"),
    ("vae/small", "vae", "VAE", "02_vae"),
    ("gpt/small", "gpt", "Transformer (GPT)", "03_transformer"),
    ("diffusion/small", "difusion", "Difusión", "04_difusion"),
    ("flow/small", "flujo", "Flujo normalizador (RealNVP)", "05_flujos"),
    ("lstm/small", "lstm", "LSTM", "06_rnn_lstm"),
    ("text2img/small", "texto-a-imagen", "Texto a imagen (difusión con guía)", "09_sistemas"),
    ("text2img/small-latent", "texto-a-imagen-latente", "Texto a imagen en el espacio latente de un VAE", "09_sistemas"),
    ("bert/small", "bert", "BERT (modelo de lenguaje enmascarado)", "09_sistemas"),
    ("superres/small", "superresolucion", "Superresolución con una GAN", "09_sistemas"),
]

# What each headline field of metrics.json is, in Spanish (the rest are listed with their JSON names).
LABELS = {
    "test_accuracy": "exactitud en prueba",
    "test_nll_nats": "−log p(x) en prueba (nats, cota IWAE)",
    "test_elbo_nats": "−ELBO en prueba (nats)",
    "test_bpd": "bits por dimensión en prueba",
    "fld": "distancia de Fréchet",
    "fld_real_baseline": "distancia real contra real",
    "kid": "KID",
    "precision": "precisión",
    "recall": "exhaustividad (recall)",
    "density": "densidad",
    "coverage": "cobertura",
    "classes_covered": "clases generadas",
    "class_tv": "variación total de clases",
    "val_nats_per_char": "validación (nats/carácter)",
    "val_bpc": "validación (bits/carácter)",
    "val_perplexity": "perplejidad de validación",
    "params": "parámetros",
    "steps": "pasos",
    "wall_seconds": "segundos de entrenamiento",
    "train_steps_per_second": "pasos por segundo",
    "seed": "semilla",
    "hardware": "máquina",
}


class BuildError(Exception):
    pass


def log(msg: str) -> None:
    print(f"build_site: {msg}", flush=True)


# ----------------------------------------------------------------------------------------------
# Notebooks


def code_sources(nb: dict) -> list[str]:
    return ["".join(c["source"]) if isinstance(c["source"], list) else c["source"]
            for c in nb["cells"] if c["cell_type"] == "code"]


def executed_copy(name: str, nb: dict) -> dict | None:
    """Notebook `name` with the outputs of its executed copy, when the copy's code cells are the
    notebook's current ones (the text around them may have changed since: it is taken from the
    notebook); None when there is no such copy."""
    path = os.path.join(EXECUTED, name)
    if not os.path.exists(path):
        return None
    with open(path, encoding="utf-8") as f:
        ex = json.load(f)
    if code_sources(ex) != code_sources(nb):
        return None
    out = json.loads(json.dumps(nb))
    ran = iter(c for c in ex["cells"] if c["cell_type"] == "code")
    for cell in out["cells"]:
        if cell["cell_type"] == "code":
            done = next(ran)
            cell["outputs"], cell["execution_count"] = done.get("outputs", []), done.get("execution_count")
    return out


LINK = re.compile(r"\]\(([^)\s]+)\)")


def rewrite_links(text: str, notebook_names: set[str], where: str) -> str:
    """Relative links of a notebook's markdown, rewritten for the site, where each notebook is the
    page <name>/ (MkDocs' directory URLs)."""

    def fix(m: re.Match) -> str:
        target = m.group(1)
        if re.match(r"^[a-z]+:|^#|^mailto:", target):
            return m.group(0)
        path, _, frag = target.partition("#")
        frag = "#" + frag if frag else ""
        base = os.path.basename(path)
        if path.endswith(".ipynb") and base in notebook_names:
            new = f"../{base[:-6]}/"
        elif os.path.normpath(path) == os.path.normpath("../BENCH.md"):
            new = "../bench/"
        elif path.startswith("../tutorials/docs/") and path.endswith(".md"):
            page = path[len("../tutorials/docs/"):-3]
            if not os.path.exists(os.path.join(HERE, "docs", page + ".md")):
                raise BuildError(f"{where}: link to {target}: no such page in tutorials/docs/")
            new = f"../{page}/"
        else:
            raise BuildError(f"{where}: link to {target}: the site has no page for it "
                             "(link to a notebook, ../BENCH.md or ../tutorials/docs/*.md)")
        return f"]({new}{frag})"

    return LINK.sub(fix, text)


NO_OUTPUTS_NOTE = (
    '<p class="iagen-note" style="border-left:4px solid #f0ad4e;padding:4px 10px">'
    "<b>Cuaderno sin ejecutar.</b> Esta página muestra el cuaderno sin sus salidas: no había una copia ejecutada "
    "al día en <code>tutorials/_build/executed/</code>. <code>make site</code> la genera (perfil <code>ci</code>); "
    "los resultados publicados del perfil <code>small</code> están en la página "
    '<a href="../resultados/">Resultados publicados</a>.</p>'
)


def assemble_notebooks(require_outputs: bool) -> tuple[list[str], list[str]]:
    names = sorted(f for f in os.listdir(NOTEBOOKS) if f.endswith(".ipynb"))
    with_outputs, without = [], []
    for name in names:
        with open(os.path.join(NOTEBOOKS, name), encoding="utf-8") as f:
            nb = json.load(f)
        ex = executed_copy(name, nb)
        if ex is None:
            if require_outputs:
                raise BuildError(f"{name}: no executed copy with its current cells in {os.path.relpath(EXECUTED, ROOT)} "
                                 "(run make test-notebooks or make site)")
            without.append(name)
            ex = nb
            first = ex["cells"][0] if ex["cells"] else None
            src = "".join(first["source"]) if first and first["cell_type"] == "markdown" else ""
            if src.startswith("# "):  # right under the title
                title, _, rest = src.partition("\n")
                first["source"] = f"{title}\n\n{NO_OUTPUTS_NOTE}\n{rest}"
            else:
                ex["cells"].insert(0, {"cell_type": "markdown", "metadata": {}, "source": NO_OUTPUTS_NOTE,
                                       "id": "iagen-no-outputs"})
        else:
            with_outputs.append(name)
        for i, cell in enumerate(ex["cells"]):
            if cell["cell_type"] == "markdown":
                src = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
                cell["source"] = rewrite_links(src, set(names), f"{name}: cell {i}")
        with open(os.path.join(DOCS, name), "w", encoding="utf-8") as f:
            json.dump(ex, f, ensure_ascii=False)
    return with_outputs, without


def execute_stale(strict_env: dict) -> None:
    stale = []
    for name in sorted(f for f in os.listdir(NOTEBOOKS) if f.endswith(".ipynb")):
        with open(os.path.join(NOTEBOOKS, name), encoding="utf-8") as f:
            if executed_copy(name, json.load(f)) is None:
                stale.append(os.path.join(NOTEBOOKS, name))
    if not stale:
        log("every executed copy is up to date")
        return
    log(f"executing {len(stale)} notebook(s) with scripts/nbtest.py (ci profile): "
        + " ".join(os.path.basename(p) for p in stale))
    os.makedirs(EXECUTED, exist_ok=True)
    cmd = [os.path.join(VENV_BIN, "python"), os.path.join(ROOT, "scripts", "nbtest.py"), "--offline",
           "--timeout", "1800", "--out", EXECUTED, *stale]
    r = subprocess.run(cmd, env=strict_env)
    if r.returncode != 0:
        # A failing notebook still leaves its executed copy (up to the failing cell): the page shows it.
        log("warning: some notebooks failed (see above); their pages show what ran")


# ----------------------------------------------------------------------------------------------
# Pages from results/


def read_json(path: str) -> dict:
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def fmt(v) -> str:
    if isinstance(v, float):
        if v != 0 and (abs(v) >= 1e5 or abs(v) < 1e-3):
            return f"{v:.3g}"
        return f"{v:.4f}".rstrip("0").rstrip(".")
    return str(v)


def md_cell(s: str) -> str:
    return str(s).replace("|", "\\|").replace("\n", " ")


def copy_result(src_rel: str) -> str:
    """Copies results/<src_rel> into the docs folder (same relative path) and returns its path there."""
    src = os.path.join(RESULTS, src_rel)
    dst = os.path.join(DOCS, "resultados", src_rel)
    os.makedirs(os.path.dirname(dst), exist_ok=True)
    shutil.copyfile(src, dst)
    return "resultados/" + src_rel


def family_page(folder: str, page: str, title: str, notebook: str) -> str | None:
    d = os.path.join(RESULTS, folder)
    if not os.path.exists(os.path.join(d, "metrics.json")):
        return None
    metrics = read_json(os.path.join(d, "metrics.json"))
    manifest = read_json(os.path.join(d, "manifest.json")) if os.path.exists(os.path.join(d, "manifest.json")) else {}
    out = [f"# {title}: resultados publicados (perfil `small`)", ""]
    out.append(f"Entrenamiento de referencia publicado en `results/{folder}`; el cuaderno "
               f"[{notebook}](../{notebook}.ipynb) lo explica y lo muestra junto a su ejecución en vivo "
               "con el perfil `ci`. Cada cifra sale del `metrics.json` de esa carpeta.")
    out.append("")
    cmd = manifest.get("command")
    if cmd:
        out += ["Orden que lo produjo (de su `manifest.json`):", "", "```", " ".join(cmd), "```", ""]
    out += ["## Métricas", "", "| medida | campo | valor |", "|---|---|---|"]
    for key, label in LABELS.items():
        if key in metrics:
            out.append(f"| {label} | `{key}` | {md_cell(fmt(metrics[key]))} |")
    rest = [k for k in sorted(metrics) if k not in LABELS and k not in ("backend", "family", "profile")]
    for key in rest:
        out.append(f"| | `{key}` | {md_cell(fmt(metrics[key]))} |")
    out.append("")
    images = [f for f in sorted(os.listdir(d)) if f.endswith((".png", ".svg"))]
    samples = [f for f in images if f.startswith("samples")]
    if samples or os.path.exists(os.path.join(d, "samples.txt")):
        out += ["## Muestras", ""]
        for f in samples:
            out += [f"![Muestras de {title}](../{copy_result(f'{folder}/{f}')})", ""]
        if os.path.exists(os.path.join(d, "samples.txt")):
            with open(os.path.join(d, "samples.txt"), encoding="utf-8") as fh:
                text = fh.read().strip()
            out += ["```text", text, "```", ""]
    curves = [f for f in images if not f.startswith("samples")]
    if curves:
        out += ["## Curvas", ""]
        for f in curves:
            out += [f"![{f[:-4]}](../{copy_result(f'{folder}/{f}')})", ""]
    with open(os.path.join(DOCS, "resultados", f"{page}.md"), "w", encoding="utf-8") as fh:
        fh.write("\n".join(out))
    return f"resultados/{page}.md"


def results_pages() -> list[tuple[str, str]]:
    os.makedirs(os.path.join(DOCS, "resultados"), exist_ok=True)
    pages = []
    for folder, page, title, notebook in FAMILIES:
        p = family_page(folder, page, title, notebook)
        if p:
            pages.append((title, p))
    index = ["# Resultados publicados", "",
             "Los entrenamientos de referencia del perfil `small`, publicados en `results/` del proyecto: una página por "
             "modelo con sus métricas, sus muestras, sus curvas y la orden exacta que los produjo (`make results` los "
             "vuelve a hacer). Los cuadernos los muestran junto a su ejecución en vivo.", ""]
    index += [f"- [{title}]({os.path.basename(p)})" for title, p in pages]
    index += ["- [La comparación medida de las seis familias](../comparacion.md)",
              "- [Las auditorías de sesgo](../auditorias.md)", ""]
    with open(os.path.join(DOCS, "resultados", "index.md"), "w", encoding="utf-8") as fh:
        fh.write("\n".join(index))
    return pages


def comparison_page() -> None:
    d = os.path.join(RESULTS, "compare", "small")
    out = ["# La comparación medida", ""]
    if not os.path.exists(os.path.join(d, "table.md")):
        out += ["La tabla comparativa aún no está publicada (`results/compare/small/table.md`)."]
    else:
        out += ["La tabla comparativa del curso, con números: las seis familias entrenadas con el mismo arnés, los mismos "
                "datos y un único evaluador, y cada afirmación de la tabla del curso con su veredicto. La genera "
                "`bin/iagen compare --profile small --from results --out results/compare/small`; el cuaderno "
                "[07](07_comparacion.ipynb) la explica paso a paso.", ""]
        with open(os.path.join(d, "table.md"), encoding="utf-8") as fh:
            table = fh.read()
        table = re.sub(r"^# .*\n", "", table, count=1)  # the page has its own title
        out += [table.strip(), ""]
        charts = [("quality_time.svg", "Calidad frente a tiempo de entrenamiento"),
                  ("quality_speed.svg", "Calidad frente a velocidad de muestreo"),
                  ("quality_diversity.svg", "Calidad frente a diversidad")]
        present = [(f, t) for f, t in charts if os.path.exists(os.path.join(d, f))]
        if present:
            out += ["## Gráficas", ""]
            for f, t in present:
                out += [f"### {t}", "", f"![{t}]({copy_result('compare/small/' + f)})", ""]
    with open(os.path.join(DOCS, "comparacion.md"), "w", encoding="utf-8") as fh:
        fh.write("\n".join(out))


def demote(md: str, levels: int = 1) -> str:
    return re.sub(r"^(#+) ", lambda m: "#" * (len(m.group(1)) + levels) + " ", md, flags=re.M)


def audits_page() -> None:
    d = os.path.join(RESULTS, "audit")
    out = ["# Auditorías de sesgo", "",
           "Las auditorías publicadas en `results/audit/`, medidas con las órdenes de abajo (el cuaderno "
           "[08](08_sesgos.ipynb) explica cada medida y las repite en vivo con el perfil `ci`).", "",
           "| carpeta | qué mide | orden |", "|---|---|---|",
           "| `german-credit/` | tablas sintéticas de German Credit hechas por un TVAE con 5 semillas: la brecha de "
           "crédito «bueno» por sexo y por edad (≤ 25 años) en las filas reales y en las sintéticas (se mantiene, se "
           "estrecha, se borra, se invierte o se amplía) y la utilidad (TSTR frente a TRTR) | "
           "`bin/iagen tables --out results/audit/german-credit --seeds 5 --backend go` |",
           "| `gender-lstm/` | género y ocupación en español: P(femenino \\| ocupación) en 2000 textos generados por una "
           "LSTM entrenada con `es-ocupaciones` frente a la de los datos, la amplificación de Zhao, 350 pares mínimos "
           "puntuados con la verosimilitud exacta y la copia literal | `bin/iagen train lstm … --out runs/lstm-gender` "
           "y `bin/iagen audit lstm --from runs/lstm-gender` (la orden completa está en la ficha) |",
           "| `gender-gpt/` | lo mismo para el Transformer | `bin/iagen train gpt … --out runs/gpt-gender` y "
           "`bin/iagen audit gpt --from runs/gpt-gender` |",
           "| `gender-bert/` | un modelo enmascarado (BERT), que no escribe: sólo los 350 pares mínimos, puntuados con la "
           "pseudo-log-verosimilitud de los caracteres comunes (CrowS-Pairs) y de la frase entera | "
           "`bin/iagen train bert … --out runs/bert-gender` y `bin/iagen audit bert --from runs/bert-gender --out results/audit/gender-bert` |"]
    sections = [("german-credit/tables.md", "Tabla sintética: German Credit"),
                ("gender-lstm/model-card.md", "Ficha del modelo: LSTM, género y ocupación"),
                ("gender-gpt/model-card.md", "Ficha del modelo: Transformer, género y ocupación"),
                ("gender-bert/model-card.md", "Ficha del modelo: BERT, pares mínimos de género y ocupación")]
    # The image families' audits measured so far: the published `small` run's (iagen audit <family>) and
    # the amplification experiment's (iagen amplify <family>), one row and one section each.
    for fam, title, trained in [("gan", "GAN", "la GAN entrenada"), ("vae", "VAE", "el VAE entrenado"),
                                ("diffusion", "difusión", "el modelo de difusión entrenado"),
                                ("flow", "flujo", "el flujo entrenado")]:
        if os.path.exists(os.path.join(d, fam, "audit.json")):
            with open(os.path.join(d, fam, "audit.json"), encoding="utf-8") as fh:
                run = json.load(fh)["run"]["dir"]
            out.append(f"| `{fam}/` | representación, copia y autenticidad de las muestras del modelo publicado en "
                       f"`results/{fam}/small` | `bin/iagen audit {fam} --from {run} --out results/audit/{fam}` |")
            sections.append((f"{fam}/model-card.md", f"Ficha del modelo: {title}"))
        rel = f"amplify-{fam}/amplification.json"
        if not os.path.exists(os.path.join(d, rel)):
            continue
        with open(os.path.join(d, rel), encoding="utf-8") as fh:
            command = " ".join(json.load(fh).get("command", []))
        out.append(f"| `amplify-{fam}/` | amplificación del sesgo: {trained} con un MNIST desequilibrado 90/10 "
                   f"con tres semillas, y otra vez con muestreo equilibrado | `{command}` |")
        sections.append((f"amplify-{fam}/amplification.md", f"Amplificación del sesgo: {title}"))
    out.append("")
    for rel, title in sections:
        p = os.path.join(d, rel)
        if not os.path.exists(p):
            continue
        with open(p, encoding="utf-8") as fh:
            text = fh.read()
        text = re.sub(r"^# .*\n", "", text, count=1)
        out += [f"## {title}", "", f"(`results/audit/{rel}`)", "", demote(text.strip(), 1), ""]
    with open(os.path.join(DOCS, "auditorias.md"), "w", encoding="utf-8") as fh:
        fh.write("\n".join(out))


def copy_mathjax() -> None:
    """MathJax 2.7 from the pinned jupyter-server-mathjax package into docs/assets/mathjax, so that the
    site typesets formulas without any network."""
    try:
        import jupyter_server_mathjax
    except ImportError:
        raise BuildError("jupyter-server-mathjax is not installed in .venv: run scripts/setup.sh "
                         "(tutorials/requirements-site.txt)")
    src = os.path.join(os.path.dirname(jupyter_server_mathjax.__file__), "static")
    shutil.copytree(src, os.path.join(DOCS, "assets", "mathjax"),
                    ignore=shutil.ignore_patterns("__pycache__", "*.py"))


def bench_page() -> None:
    with open(os.path.join(ROOT, "BENCH.md"), encoding="utf-8") as fh:
        text = fh.read()
    # BENCH.md's own links point into the repository: keep their text, drop the link.
    text = re.sub(r"\[([^\]]+)\]\((?!https?:)[^)]+\)", r"\1", text)
    head = ("!!! note \"Referencia técnica (en inglés)\"\n"
            "    Las configuraciones de referencia (*benchmark*), los objetivos de calidad «pass» y «stretch» y los "
            "tiempos medidos, tal como están en `BENCH.md` del proyecto. Los cuadernos enlazan aquí.\n\n")
    with open(os.path.join(DOCS, "bench.md"), "w", encoding="utf-8") as fh:
        fh.write(head + text)


# ----------------------------------------------------------------------------------------------


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--strict", action="store_true", help="mkdocs build --strict: warnings (broken links) fail")
    p.add_argument("--require-outputs", action="store_true",
                   help="fail when a notebook has no up-to-date executed copy instead of rendering it without outputs")
    p.add_argument("--execute", action="store_true", help="execute notebooks whose executed copy is missing or stale")
    args = p.parse_args()

    mkdocs = os.path.join(VENV_BIN, "mkdocs")
    if not os.path.exists(mkdocs):
        log("mkdocs is not installed in .venv: run scripts/setup.sh (it installs tutorials/requirements-site.txt)")
        return 1
    try:
        if args.execute:
            execute_stale(dict(os.environ))
        shutil.rmtree(DOCS, ignore_errors=True)
        shutil.copytree(os.path.join(HERE, "docs"), DOCS)
        copy_mathjax()
        with_outputs, without = assemble_notebooks(args.require_outputs)
        results_pages()
        comparison_page()
        audits_page()
        bench_page()
    except BuildError as e:
        log(str(e))
        return 1
    log(f"{len(with_outputs)} notebook(s) with outputs, {len(without)} without"
        + (f" ({', '.join(without)})" if without else ""))
    cmd = [mkdocs, "build", "--clean", "-f", os.path.join(HERE, "mkdocs.yml")] + (["--strict"] if args.strict else [])
    r = subprocess.run(cmd, cwd=HERE, env=dict(os.environ, NO_MKDOCS_2_WARNING="1"))
    if r.returncode != 0:
        log("mkdocs build failed (see above)")
        return 1
    log(f"site in {os.path.relpath(os.path.join(BUILD, 'site'), ROOT)}/ (open index.html, or "
        f"`.venv/bin/python -m http.server -d {os.path.relpath(os.path.join(BUILD, 'site'), ROOT)}`)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
