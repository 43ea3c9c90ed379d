"""The chat adapter that pre-fills the first output header, so small models keep DSPy's layout."""

from __future__ import annotations

import dspy


class PrefilledChatAdapter(dspy.ChatAdapter):
    """ChatAdapter whose assistant turn starts with the first output field's header, and which repairs
    a chain of thought that never reaches its last field: small models often ramble on in the
    reasoning; the first paragraph of it is kept, the next header written for them, and the model
    asked again for the rest (one extra call)."""

    def __init__(self, prefill: bool = True, **kwargs):
        super().__init__(use_json_adapter_fallback=False, **kwargs)
        self.prefill = prefill

    @staticmethod
    def header(signature) -> str:
        return f"[[ ## {next(iter(signature.output_fields))} ## ]]\n"

    def format(self, signature, demos, inputs, prefill: str | None = None):
        messages = super().format(signature, demos, inputs)
        if self.prefill or prefill:
            messages.append({"role": "assistant", "content": prefill or self.header(signature)})
        return messages

    def parse(self, signature, completion: str):
        # endpoints that ignore the prefill write the header themselves
        if self.prefill and not completion.lstrip().startswith("[[ ##"):
            completion = self.header(signature) + completion
        return super().parse(signature, completion)

    def repair_prefill(self, signature, completion: str, max_words: int = 60) -> str | None:
        """For an output with a reasoning but no later field: its first paragraph plus the next header."""
        names = list(signature.output_fields)
        if len(names) < 2 or names[0] != "reasoning":
            return None
        text = completion if completion.lstrip().startswith("[[ ##") else self.header(signature) + completion
        body = text.split("[[ ## reasoning ## ]]", 1)[-1].split("[[ ##", 1)[0].strip()
        paragraph = " ".join(body.split("\n\n", 1)[0].split()[:max_words])
        if not paragraph:
            return None
        return f"[[ ## reasoning ## ]]\n{paragraph}\n\n[[ ## {names[1]} ## ]]\n"

    def parse_repaired(self, signature, prefill: str, completion: str):
        return dspy.ChatAdapter.parse(self, signature, prefill + completion)

    def __call__(self, lm, lm_kwargs, signature, demos, inputs):
        from dspy.utils.exceptions import AdapterParseError

        try:
            return super().__call__(lm, lm_kwargs, signature, demos, inputs)
        except AdapterParseError as err:
            prefill = self.repair_prefill(signature, str(err.lm_response or ""))
            if prefill is None:
                raise
            outputs = lm(messages=self.format(signature, demos, inputs, prefill=prefill), **lm_kwargs)
            first = outputs[0] if outputs else ""
            text = first.get("text", "") if isinstance(first, dict) else str(first)
            return [self.parse_repaired(signature, prefill, text)]
