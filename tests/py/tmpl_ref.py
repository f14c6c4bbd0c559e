"""Reference renderer for the template tests: jinja2 set up the way
transformers' apply_chat_template sets it up (ImmutableSandboxedEnvironment,
trim_blocks, lstrip_blocks, loopcontrols, the {% generation %} tag,
raise_exception, strftime_now, and a tojson filter that is json.dumps with
ensure_ascii=False), with strftime_now fixed to a given UTC time."""
import json
from datetime import datetime, timezone

import rftest

jinja2 = rftest.need("jinja2")
from jinja2 import nodes  # noqa: E402
from jinja2.ext import Extension  # noqa: E402
from jinja2.sandbox import ImmutableSandboxedEnvironment  # noqa: E402


class GenerationTag(Extension):
    """transformers' AssistantTracker without the tracking: renders its body."""
    tags = {"generation"}

    def parse(self, parser):
        lineno = next(parser.stream).lineno
        body = parser.parse_statements(["name:endgeneration"], drop_needle=True)
        return nodes.CallBlock(self.call_method("_generation_support"), [], [], body).set_lineno(lineno)

    def _generation_support(self, caller):
        return caller()


class TemplateError(Exception):
    pass


def make_env(now):
    def raise_exception(message):
        raise TemplateError(message)

    def tojson(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False):
        return json.dumps(x, ensure_ascii=ensure_ascii, indent=indent, separators=separators, sort_keys=sort_keys)

    def strftime_now(fmt):
        # transformers formats datetime.now(), a naive datetime: %z and %Z are empty
        return datetime.fromtimestamp(now, tz=timezone.utc).replace(tzinfo=None).strftime(fmt)

    env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True,
                                        extensions=[GenerationTag, "jinja2.ext.loopcontrols"])
    env.filters["tojson"] = tojson
    env.globals["raise_exception"] = raise_exception
    env.globals["strftime_now"] = strftime_now
    return env


def render(env, source, context):
    """(True, output) or (False, error text)."""
    try:
        return True, env.from_string(source).render(**context)
    except Exception as e:  # noqa: BLE001 - any jinja2 failure counts as an error
        return False, f"{type(e).__name__}: {e}"


def chat_context(messages, tools=None, add_generation_prompt=False, bos="<s>", eos="</s>", extra=None):
    """The globals transformers passes to the template."""
    ctx = {"messages": messages, "tools": tools, "documents": None,
           "add_generation_prompt": add_generation_prompt, "bos_token": bos, "eos_token": eos}
    ctx.update(extra or {})
    return ctx
