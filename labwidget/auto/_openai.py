"""The OpenAI-compatible rollout generator: bounded concurrent requests over one or more servers."""

from __future__ import annotations

import queue
import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from labwidget.auto.prefix import Prefix

# What vLLM and SGLang take to continue the final (assistant) message instead of opening a
# new turn after it: the chat template is applied without the generation prompt and without
# closing that message.
CONTINUE_FINAL_MESSAGE = {"continue_final_message": True, "add_generation_prompt": False}


class OpenAICompatible:
    """Sends each prompt as one request for ``n`` completions (see ``openai_compatible``)."""

    def __init__(
        self,
        urls: Sequence[str],
        model: str,
        *,
        api_key: str,
        chat: bool,
        max_concurrency: int,
        timeout_s: float,
        max_retries: int,
        request: dict[str, Any],
    ) -> None:
        if not urls:
            raise ValueError("openai_compatible needs at least one base URL")
        if max_concurrency < 1:
            raise ValueError(f"max_concurrency must be at least 1, not {max_concurrency}")
        try:
            import openai
        except ImportError as exc:
            raise ImportError(
                "openai_compatible needs the openai client: pip install 'labwidget[openai]'"
            ) from exc
        self.urls = list(urls)
        self.model = model
        self.chat = chat
        self.max_concurrency = max_concurrency
        self.request = request
        self.clients = [
            openai.OpenAI(base_url=url, api_key=api_key, timeout=timeout_s, max_retries=max_retries)
            for url in self.urls
        ]

    def __str__(self) -> str:
        return f"openai:{self.model}"

    def __getstate__(self) -> dict[str, Any]:
        # Clients hold connection pools and locks; a Ray worker builds its own from the URLs.
        state = dict(self.__dict__)
        state["clients"] = [
            (str(c.base_url), c.api_key, c.timeout, c.max_retries) for c in self.clients
        ]
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        import openai

        self.__dict__.update(state)
        self.clients = [
            openai.OpenAI(base_url=url, api_key=key, timeout=timeout, max_retries=retries)
            for url, key, timeout, retries in state["clients"]
        ]

    def __call__(self, prompts: list[str], n: int) -> list[list[str]]:
        """``n`` completions of each prompt, at most ``max_concurrency`` requests per server."""
        results: list[list[str]] = [[] for _ in prompts]
        pending: queue.SimpleQueue[int] = queue.SimpleQueue()
        for index in range(len(prompts)):
            pending.put(index)
        failed = threading.Event()

        def work(client: Any) -> None:
            while not failed.is_set():
                try:
                    index = pending.get_nowait()
                except queue.Empty:
                    return
                try:
                    results[index] = self._complete(client, prompts[index], n)
                except BaseException:
                    failed.set()  # the others stop taking new prompts
                    raise

        workers = min(len(prompts), len(self.clients) * self.max_concurrency)
        with ThreadPoolExecutor(max(workers, 1), thread_name_prefix="labwidget-openai") as pool:
            futures = [
                pool.submit(work, self.clients[k % len(self.clients)]) for k in range(workers)
            ]
        for future in futures:
            future.result()
        return results

    def _complete(self, client: Any, prompt: str, n: int) -> list[str]:
        fields = dict(self.request)
        extra_body = dict(fields.pop("extra_body", None) or {})
        if isinstance(prompt, Prefix):
            fields.setdefault("seed", prompt.seed)
        if not self.chat:
            response = client.completions.create(
                model=self.model, prompt=str(prompt), n=n, extra_body=extra_body or None, **fields
            )
            return [choice.text for choice in sorted(response.choices, key=_index)]
        messages = [{"role": "user", "content": str(prompt)}]
        if isinstance(prompt, Prefix):
            messages = [
                {"role": "user", "content": prompt.question},
                {"role": "assistant", "content": prompt.solution},
            ]
            extra_body = {**CONTINUE_FINAL_MESSAGE, **extra_body}
        response = client.chat.completions.create(
            model=self.model, messages=messages, n=n, extra_body=extra_body or None, **fields
        )
        return [choice.message.content or "" for choice in sorted(response.choices, key=_index)]


def _index(choice: Any) -> int:
    return int(choice.index)
