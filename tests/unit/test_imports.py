"""Importing the steps and pipelines stays light: torch, TRL, transformers and DSPy load when a step runs."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_importing_steps_and_pipelines_loads_no_model_library():
    code = ("import sys, steps, pipelines.inpars, pipelines.retraining, pipelines.generation, pipelines.validation, "
            "pipelines.training, pipelines.evaluation, pipelines.optimise_prompt, pipelines.cpo, commands.main; "
            "print(sorted(m for m in ('torch', 'dspy', 'transformers', 'trl', 'peft', 'sentence_transformers') "
            "if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip().splitlines()[-1] == "[]"
