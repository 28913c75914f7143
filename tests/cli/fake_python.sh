#!/bin/sh
# A stand-in interpreter for `smwatch explain --python`: whatever it is asked,
# it answers with the distribution list a real environment would give
# (importlib.metadata: name, version, requirements).
cat <<'JSON'
{"executable": "/opt/venv/bin/python", "version": "3.12.3", "site": [], "dists": [
 ["transformers", "4.51.3", ["huggingface-hub<1.0,>=0.30.0", "tokenizers<0.22,>=0.21"]],
 ["compressed-tensors", "0.11.0", ["torch>=1.7.0", "transformers", "pydantic>=2.0"]],
 ["sglang", "0.4.6.post5", ["transformers==4.51.1; extra == \"srt\"", "compressed-tensors; extra == \"srt\""]],
 ["torch", "2.6.0+cu126", []]
]}
JSON
