"""Values followed across the modules of a program by `migrate apply`: star imports, response parts passed
to other modules' functions, response messages kept in message histories, responses stored in records."""

import textwrap


def apply(run_cli, root, files: dict[str, str]) -> dict[str, str]:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))
    proc = run_cli("apply", str(root))
    assert proc.returncode in (0, 1), proc.stdout + proc.stderr
    return {name: (root / name).read_text() for name in files}


def test_star_imported_openai_reaches_responses_exceptions_and_their_attributes(run_cli, tmp_path):
    out = apply(run_cli, tmp_path, {
        "helpers.py": "import openai\nopenai.api_key = 'k'\n",
        "moderation.py": """\
            from helpers import *

            def check(text):
                result = openai.Moderation.create(input=text)["results"][0]
                return [name for name, value in result["categories"].items() if value]
        """,
        "cli.py": """\
            from helpers import *
            from moderation import check

            try:
                check("x")
            except openai.error.OpenAIError as e:
                print(e.http_status)
        """,
    })
    assert "openai.moderations.create(input=text).results[0]" in out["moderation.py"]
    assert "result.categories.to_dict().items()" in out["moderation.py"]
    assert "except openai.OpenAIError as e:" in out["cli.py"]
    assert "e.http_status" not in out["cli.py"]


def test_response_parts_reach_other_modules_and_histories_stay_dicts(run_cli, tmp_path):
    out = apply(run_cli, tmp_path, {
        "tools/__init__.py": "from .registry import call_tool\n",
        "tools/registry.py": """\
            import json

            def call_tool(function_call):
                return json.loads(function_call["arguments"]), function_call["name"]
        """,
        "agent.py": """\
            import openai
            from tools import call_tool

            class Agent:
                def __init__(self):
                    self.messages = [{"role": "system", "content": "hi"}]

                def ask(self):
                    response = openai.ChatCompletion.create(model="m", messages=self.messages, functions=[])
                    message = response["choices"][0]["message"]
                    self.messages.append(message)
                    call = message["function_call"]
                    return call_tool(call)

            def describe(message):
                return "function_call" in message
        """,
        "main.py": """\
            from agent import Agent, describe

            agent = Agent()
            agent.ask()
            print([describe(m) for m in agent.messages if m["role"] == "assistant"])
        """,
    })
    assert 'json.loads(function_call.arguments), function_call.name' in out["tools/registry.py"]
    assert "self.messages.append(message.to_dict())" in out["agent.py"]
    assert 'return "function_call" in message' in out["agent.py"]  # it reads the history: dicts
    assert 'm["role"]' in out["main.py"]


def test_response_returned_in_a_tuple_is_followed_into_the_caller_and_its_callees(run_cli, tmp_path):
    out = apply(run_cli, tmp_path, {
        "ask.py": """\
            import openai

            def answer(question):
                completion = openai.ChatCompletion.create(model="m", messages=[{"role": "user", "content": question}])
                return completion, [question]

            def format_answer(completion):
                return completion["choices"][0]["finish_reason"]

            def other():
                return 1, 2
        """,
        "main.py": """\
            from ask import answer, format_answer, other

            completion, hits = answer("q")
            print(format_answer(completion), completion["usage"]["total_tokens"], hits[0])
            one, two = other()
        """,
    })
    assert 'completion.choices[0].finish_reason' in out["ask.py"]
    assert 'completion.usage.total_tokens, hits[0])' in out["main.py"]


STORE = """\
    class Store:
        def __init__(self):
            self.items = []

        def add(self, resp):
            self.items.append(resp["choices"][0]["message"]["content"])
            return resp["usage"]["total_tokens"]
"""


def test_response_passed_to_a_method_of_a_project_class_instance(run_cli, tmp_path):
    out = apply(run_cli, tmp_path, {
        "app/__init__.py": "",
        "app/store.py": STORE,
        "app/main.py": """\
            import openai

            from app.store import Store

            def run(question):
                store = Store()
                resp = openai.ChatCompletion.create(model="m", messages=[{"role": "user", "content": question}])
                return store.add(resp)

            history = Store()
            history.add(openai.ChatCompletion.create(model="m", messages=[]))
        """,
    })
    assert "self.items.append(resp.choices[0].message.content)" in out["app/store.py"]
    assert "return resp.usage.total_tokens" in out["app/store.py"]


def test_method_parameter_with_a_call_site_passing_a_dict_is_not_a_response(run_cli, tmp_path):
    out = apply(run_cli, tmp_path, {
        "app/__init__.py": "",
        "app/store.py": STORE,
        "app/main.py": """\
            import openai

            from app.store import Store

            def run(question):
                store = Store()
                store.add(openai.ChatCompletion.create(model="m", messages=[]))
                fake = Store()
                fake.add({"choices": [{"message": {"content": "x"}}], "usage": {"total_tokens": 1}})
        """,
    })
    assert 'resp["choices"][0]["message"]["content"]' in out["app/store.py"]
    assert ".choices[0]" not in out["app/store.py"]


def test_instance_bound_twice_or_from_a_function_is_not_followed(run_cli, tmp_path):
    out = apply(run_cli, tmp_path, {
        "app/__init__.py": "",
        "app/store.py": textwrap.dedent(STORE) + "\n\ndef make_store():\n    return Store()\n",
        "app/main.py": """\
            import openai

            from app.store import Store, make_store

            def run(flag):
                store = Store()
                if flag:
                    store = make_store()
                store.add(openai.ChatCompletion.create(model="m", messages=[]))

            def other():
                made = make_store()
                made.add(openai.ChatCompletion.create(model="m", messages=[]))
        """,
    })
    assert ".choices[0]" not in out["app/store.py"]
