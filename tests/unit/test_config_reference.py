"""docs/CONFIG.md is generated from the typed parameters and must not drift from them."""

from commands.config_reference import DOC, reference


def test_config_reference_is_in_sync_with_the_schema():
    assert DOC.read_text() == reference(), "regenerate it: python -m commands.config_reference"


def test_every_block_and_field_is_documented():
    text = reference()
    for block in ("InParsConfig", "RerankerTrainingConfig", "DecodingConfig", "ChecksConfig", "RerankerFilter",
                  "LocalGenerator", "ServedGenerator", "CPOTrainingConfig", "PromptOptimisationConfig", "DSPyOptions"):
        assert f"### `{block}`" in text, block
    missing = [line for line in text.splitlines() if line.startswith("| `") and line.rstrip().endswith("|  |")]
    assert not missing, f"fields without a description: {missing}"
