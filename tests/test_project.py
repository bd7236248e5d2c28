"""The whole-program view (migrator.engine.project.build_project): modules, configuration, imports,
re-exports and responses followed across modules."""

import pickle
import textwrap

from migrator.engine.project import build_project, module_name
from migrator.rules.project import EMPTY, FUNCTION, METHOD, TOP
from migrator.rules.registry import RULES

ALL = [e.code for e in RULES]


def write(root, files: dict[str, str]) -> list[str]:
    paths = []
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))
        paths.append(str(path))
    return sorted(paths)


PROJECT = {
    "app/__init__.py": """\
        import openai
        openai.api_key = "k"
    """,
    "app/common.py": "import openai\n",
    "app/helpers.py": """\
        from .common import openai

        def ask(q):
            r = openai.ChatCompletion.create(model="m", messages=[])
            return r

        def relay(q):
            return ask(q)

        def show(resp, label="x"):
            print(resp["choices"][0])

        def mixed(value):
            print(value)

        class Bot:
            def __init__(self, key):
                openai.api_key = key

            async def go(self):
                return await openai.ChatCompletion.acreate(model="m")
    """,
    "main.py": """\
        from app.helpers import *
        from app import helpers
        from dotenv import load_dotenv

        load_dotenv()

        def setup():
            import openai
            openai.organization = "org"

        r = helpers.ask("x")
        show(r)
        helpers.show(relay("y"), label="z")
        mixed(r)
        mixed("text")
        callback = helpers.ask
    """,
    "unrelated/tool.py": "print('nothing to do with openai')\n",
}


def test_module_names_follow_packages(tmp_path):
    paths = write(tmp_path, PROJECT)
    assert module_name(paths[0])[0] == "app"  # app/__init__.py
    assert module_name(str(tmp_path / "app" / "helpers.py")) == ("app.helpers", str(tmp_path))
    assert module_name(str(tmp_path / "main.py")) == ("main", str(tmp_path))


def test_configuration_sites_and_where_they_stand(tmp_path):
    view = build_project(write(tmp_path, PROJECT), ALL)
    sites = {(s.module, s.name, s.where, s.scope) for s in view.config_sites()}
    assert sites == {
        ("app", "api_key", TOP, ""),
        ("app.helpers", "api_key", METHOD, "app.helpers.Bot.__init__"),
        ("main", "organization", FUNCTION, "main.setup"),
    }
    assert all(s.after_dotenv for s in view.config_sites("main"))
    assert {s.module for s in view.foreign_config("app.helpers")} == {"app", "main"}
    # v0 calls are found through the re-export `from .common import openai`.
    assert view.calls_v0("app.helpers") == (True, True)
    assert view.calls_v0("main") == (False, False)
    assert view.calling_modules() == ("app.helpers",)


def test_exports_imports_and_star_imports(tmp_path):
    view = build_project(write(tmp_path, PROJECT), ALL)
    assert view.resolve_export("app.helpers", "openai") == "openai"
    assert view.resolve_export("app.common", "openai") == "openai"
    assert view.resolve_export("main", "ask") == "app.helpers.ask"  # through `from app.helpers import *`
    assert view.resolve_export("main", "nothing") is None
    assert view.imports_of("app.helpers") == {"app", "app.common"}  # a submodule imports its package first
    assert view.importers_of("app.helpers") == {"main"}
    assert view.module_of(str(tmp_path / "main.py")) == "main"


def test_responses_followed_through_functions_and_call_sites(tmp_path):
    view = build_project(write(tmp_path, PROJECT), ALL)
    assert view.returns_response("app.helpers.ask")
    assert view.returns_response("app.helpers.relay")  # returns what ask returns
    assert view.returns_response("app.helpers.Bot.go")
    assert not view.returns_response("app.helpers.show")
    # every call site of show passes a response (one of them positionally, one through relay)
    assert view.response_params("app.helpers.show") == {"resp"}
    # mixed gets a response at one site and a string at another
    assert view.response_params("app.helpers.mixed") == frozenset()


def test_a_function_used_as_a_value_has_unknown_callers(tmp_path):
    files = dict(PROJECT)
    files["main.py"] = PROJECT["main.py"] + "handler = helpers.show\n"
    view = build_project(write(tmp_path, files), ALL)
    assert view.response_params("app.helpers.show") == frozenset()


def test_only_relevant_files_are_parsed_and_the_view_pickles(tmp_path, monkeypatch):
    from migrator.rules.openai_v0 import program

    seen = []
    original = program.summarise
    monkeypatch.setattr(program, "summarise", lambda path, *a, **k: seen.append(path) or original(path, *a, **k))
    view = build_project(write(tmp_path, PROJECT), ALL)
    assert not any("unrelated" in p for p in seen)
    assert pickle.loads(pickle.dumps(view)) == view
    assert view.complete and EMPTY.returns_response("x") is False and EMPTY.resolve_export("m", "n") is None


def test_single_file_run_reads_the_modules_it_imports(tmp_path):
    write(tmp_path, {
        "config.py": "import openai\n\ndef setup():\n    openai.api_key = open('k').read()\n",
        "main.py": "import openai\nimport config\nconfig.setup()\nopenai.ChatCompletion.create(model='m', messages=[])\n",
    })
    view = build_project([str(tmp_path / "main.py")], ALL)
    assert not view.complete
    assert [(s.module, s.where) for s in view.foreign_config("main")] == [("config", FUNCTION)]
    assert any("config.py" in note and "not in this run" in note for note in view.unseen)


def test_bad_files_are_left_out_not_raised(tmp_path):
    paths = write(tmp_path, {"broken.py": "import openai\nopenai.api_key = (\n", "ok.py": "import openai\nopenai.api_key = 'k'\n"})
    view = build_project(paths, ALL)
    assert [s.module for s in view.config_sites()] == ["ok"]
    assert any("broken.py" in note for note in view.unseen)


def test_an_openai_package_in_the_run_is_the_sdk_not_project_code(tmp_path, monkeypatch):
    """A run over a tree holding the openai package itself (vendored, or site-packages): its modules are
    never summarised nor followed, whatever they contain; the program's own modules are."""
    from migrator.rules.openai_v0 import program

    seen = []
    original = program.summarise
    monkeypatch.setattr(program, "summarise", lambda path, *a, **k: seen.append(path) or original(path, *a, **k))
    view = build_project(write(tmp_path, {
        "openai/__init__.py": "from .lib import runtime\nfrom .helpers import *\n",
        "openai/lib/__init__.py": "",
        "openai/lib/runtime.py": "import openai as _sdk\n_sdk.api_type = 'openai'\n",
        "openai/helpers.py": "def first(items):\n    return items['choices'][0]\n",
        "app.py": "import openai\nfrom openai.helpers import first\nopenai.api_key = 'k'\n"
                  "r = openai.ChatCompletion.create(model='m', messages=[])\nprint(first(r))\n",
    }), ALL)
    assert {p.rsplit("/", 1)[-1] for p in seen} == {"app.py"}
    assert [s.module for s in view.config_sites()] == ["app"]


# -- client plans (migrator.rules.openai_v0.planning) ------------------------------------------------

from migrator.rules.openai_v0.planning import CLIENT, MODULE, decide, plan_lines

PROGRAMS = {
    "config.py": "import openai\n\ndef setup(key):\n    openai.api_key = key\n",
    "chat.py": "import openai\n\ndef ask():\n    return openai.ChatCompletion.create(model='m', messages=[])\n",
    "main.py": "import config\nimport chat\nconfig.setup('k')\nchat.ask()\n",
    "solo.py": "import openai\nopenai.api_key = 'k'\nopenai.ChatCompletion.create(model='m', messages=[])\n",
    "runtime.py": "import openai\n\ndef go():\n    openai.api_key = 'k'\n    return openai.Embedding.create(input='x', model='m')\n",
}


def test_plans_follow_where_configuration_is_assigned(tmp_path):
    view = build_project(write(tmp_path, PROGRAMS), ALL)
    # configuration in another module of the program (connected through main's imports)
    chat = decide(view, "chat", view.config_sites("chat"))
    assert chat.style == MODULE and "module config" in chat.reason and "setup()" in chat.reason
    # configuration only at the top of a module nothing else imports: constructor arguments
    assert decide(view, "solo", view.config_sites("solo")).style == CLIENT
    # configuration at run time in the module itself
    runtime = decide(view, "runtime", view.config_sites("runtime"))
    assert runtime.style == MODULE and "go()" in runtime.reason
    # what the user asked for wins
    assert decide(view, "solo", view.config_sites("solo"), "module").style == MODULE
    assert decide(view, "chat", view.config_sites("chat"), provider="anthropic").style == CLIENT
    lines = plan_lines(view)
    assert len(lines) == 3 and all(line.startswith(str(tmp_path)) for line in lines)


def test_a_module_whose_configuration_others_use_keeps_it_global(tmp_path):
    files = {
        "settings.py": "import openai\nopenai.api_key = 'k'\nopenai.Model.list()\n",
        "worker.py": "import settings\nimport openai\nopenai.Embedding.create(input='x', model='m')\n",
    }
    view = build_project(write(tmp_path, files), ALL)
    assert decide(view, "settings", view.config_sites("settings")).style == MODULE
    assert decide(view, "worker", view.config_sites("worker")).style == MODULE


def test_apply_explain_plan_writes_nothing(tmp_path, run_cli):
    write(tmp_path, PROGRAMS)
    before = {p.name: p.read_text() for p in tmp_path.glob("*.py")}
    proc = run_cli("apply", "--explain-plan", ".")
    assert proc.returncode == 0, proc.stderr
    assert {p.name: p.read_text() for p in tmp_path.glob("*.py")} == before
    lines = proc.stdout.splitlines()
    assert lines[0].startswith("Client plan")
    assert any("chat.py: module-level client" in line for line in lines)
    assert any("solo.py: client object" in line for line in lines)
    assert any("OPENAI_API_BASE is no longer read" in line for line in lines)
    proc = run_cli("apply", ".")
    assert "Client plan" in proc.stdout and "Fixed" in proc.stdout
    assert "openai.chat.completions.create" in (tmp_path / "chat.py").read_text()
    assert "client = OpenAI(api_key='k')" in (tmp_path / "solo.py").read_text()


def test_computed_api_type_goes_to_the_module_client(tmp_path):
    files = {"az.py": "import os\nimport openai\nopenai.api_type = os.environ['KIND']\nopenai.Model.list()\n"}
    view = build_project(write(tmp_path, files), ALL)
    decision = decide(view, "az", view.config_sites("az"))
    assert decision.style == MODULE and "computed" in decision.reason
    from migrator.engine.fixer import FixOptions, fix_text

    text, _ = fix_text(str(tmp_path / "az.py"), files["az.py"], ALL, FixOptions(project=view))
    assert text == "import os\nimport openai\nopenai.api_type = os.environ['KIND']\nopenai.models.list()\n"


def test_modules_reaching_openai_through_a_re_export_get_every_openai_rule(tmp_path, run_cli):
    files = {
        "kb/__init__.py": "",
        "kb/common.py": "import openai\nopenai.api_key = 'k'\n",
        "kb/llm.py": """\
            import backoff
            from .common import openai

            @backoff.on_exception(backoff.expo, openai.error.RateLimitError)
            def models():
                return [m["id"] for m in openai.Model.list()["data"]]
        """,
        "main.py": """\
            from kb.common import openai
            from kb.llm import models

            try:
                print(models())
            except openai.error.RateLimitError as e:
                print(e.http_status)
        """,
    }
    paths = write(tmp_path, files)
    view = build_project(paths, ALL)
    assert set(view.openai_through) == {"kb.llm", "main"}
    assert "OAI301" in view.forced_codes_for(str(tmp_path / "main.py"))
    assert view.forced_codes_for(str(tmp_path / "kb" / "common.py")) == ()
    proc = run_cli("apply", ".")
    assert proc.returncode in (0, 1), proc.stderr
    llm = (tmp_path / "kb" / "llm.py").read_text()
    assert "openai.RateLimitError" in llm and 'm.id for m in openai.models.list().data' in llm
    assert "import openai" not in llm.splitlines()  # the re-exported name is used as it is
    main = (tmp_path / "main.py").read_text()
    assert "except openai.RateLimitError as e:" in main and "e.status_code" in main


def test_keyword_arguments_built_by_a_helper_in_another_module_are_renamed_where_built(tmp_path, run_cli):
    files = {
        "llm/__init__.py": "",
        "llm/config.py": """\
            DEPLOYMENTS = {"chat": "gpt35-prod"}

            def model_kwargs(kind):
                if kind == "azure":
                    return {"engine": DEPLOYMENTS["chat"], "request_timeout": 30}
                return {"model": "gpt-3.5-turbo"}

            def other():
                return {"engine": "left alone"}
        """,
        "llm/service.py": """\
            import openai
            from .config import model_kwargs

            def complete(prompt):
                return openai.ChatCompletion.create(messages=[], **model_kwargs("chat"))
        """,
    }
    paths = write(tmp_path, files)
    view = build_project(paths, ALL)
    assert view.splatted_into_v0("llm.config.model_kwargs") and not view.splatted_into_v0("llm.config.other")
    assert view.forced_codes_for(str(tmp_path / "llm" / "config.py")) == ("OAI401",)
    proc = run_cli("apply", ".")
    assert proc.returncode in (0, 1), proc.stderr
    config = (tmp_path / "llm" / "config.py").read_text()
    assert 'return {"model": DEPLOYMENTS["chat"], "timeout": 30}' in config
    assert 'return {"engine": "left alone"}' in config


def test_generated_clients_wrap_at_the_project_line_length(tmp_path, run_cli):
    source = "import openai\nopenai.api_key = 'sk-local-test-key-not-secret'\nopenai.api_base = 'http://localhost:8000/v1'\n" \
        "openai.Model.list()\n"
    one_line = "client = OpenAI(api_key='sk-local-test-key-not-secret', base_url='http://localhost:8000/v1')"
    assert 88 < len(one_line) < 120
    for config, wrapped in (("", True), ("[tool.ruff]\nline-length = 120\n", False),
                            ("[tool.black]\nline-length = 120\n", False)):
        project = tmp_path / str(len(config))
        project.mkdir()
        (project / "app.py").write_text(source)
        if config:
            (project / "pyproject.toml").write_text(config)
        assert build_project([str(project / "app.py")], ALL).line_length == (120 if config else 88)
        proc = run_cli("apply", str(project / "app.py"))
        assert proc.returncode in (0, 1), proc.stderr
        text = (project / "app.py").read_text()
        assert (one_line in text) is not wrapped and ("client = OpenAI(\n" in text) is wrapped, text
