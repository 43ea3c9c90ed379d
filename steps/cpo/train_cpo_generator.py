from typing import Annotated, Optional

from zenml import step

from synthir.cpo.config import CPOTrainingConfig
from synthir.cpo.preferences import PreferencePairs
from synthir.flow import cpo as cpo_flow
from synthir.training.artifacts import GeneratorModel


@step(experiment_tracker=True)
def train_cpo_generator(
    pairs: PreferencePairs, cpo: CPOTrainingConfig = CPOTrainingConfig(), checkpoint_root: Optional[str] = None
) -> Annotated[GeneratorModel, "generator"]:
    """``synthir.flow.cpo.train_cpo_generator``: CPO + LoRA on the preference pairs (TRL), resumable."""
    return cpo_flow.train_cpo_generator(pairs, cpo, checkpoint_root)
