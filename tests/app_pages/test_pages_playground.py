"""AppTest of the Playground page: replies from the model server (no weights in the web process), a restarted
server, comparing with the base and with other runs, importing an adapter, and answers turned into training data."""

import os
import signal

import pytest
from conftest import copy_trained_run, wait_for
from test_pages import open_page, texts

from workbench.data import feedback, library, sources
from workbench.models import loading
from workbench.runs import directory


@pytest.mark.parametrize("system_prompt", ["", "Answer briefly."])
def test_playground_streams_a_reply_from_the_trained_adapter(trained_home, system_prompt, monkeypatch):
    def no_weights_here(*args, **kwargs):
        raise AssertionError("the web process loaded model weights")

    monkeypatch.setattr(loading, "load_model", no_weights_here)  # the reply must come from the model server
    app = open_page("app_pages/playground.py")
    app.text_area(key="system_prompt").set_value(system_prompt)
    app.chat_input[0].set_value("Hello there").run()
    assert not app.exception
    roles = [message.name for message in app.chat_message]
    assert roles == ["user", "assistant"]
    history = app.session_state[f"chat_{trained_home.run_id}"]
    assert history[-1]["role"] == "assistant" and history[-1]["model"] == "tuned"


def test_playground_says_so_when_the_model_server_was_started_again(demo_home, trained_demo):
    from workbench.serving import process

    copy_trained_run(trained_demo, demo_home)
    app = open_page("app_pages/playground.py")
    assert "started again" not in texts(app)
    os.kill(process.running_server().pid, signal.SIGKILL)
    wait_for(process.announced_but_gone, timeout=10, interval=0.1, what="the killed server to be gone")
    app.chat_input[0].set_value("Which city is mentioned? Lena has lived in Quito for ten years.").run()
    assert not app.exception
    assert "The model server had stopped and was started again" in texts(app)
    assert app.session_state[f"chat_{trained_demo.run_id}"][-1]["content"].strip() == "Quito"


def test_turning_compare_on_mid_conversation_lets_the_base_answer_the_earlier_question_too(demo_home, trained_demo):
    copy_trained_run(trained_demo, demo_home)
    app = open_page("app_pages/playground.py")
    app.chat_input[0].set_value("Which city is mentioned? Lena has lived in Quito for ten years.").run()
    app.toggle(key="compare_base").set_value(True).run()
    app.chat_input[0].set_value("Which city is mentioned? Omar moved to Lima last spring.").run()
    assert not app.exception
    history = app.session_state[f"chat_{trained_demo.run_id}"]
    assert [(turn["role"], turn.get("model")) for turn in history] == [
        ("user", None), ("assistant", "tuned"), ("assistant", "base"),
        ("user", None), ("assistant", "tuned"), ("assistant", "base"),
    ]  # fmt: skip
    assert [history[1]["content"].strip(), history[4]["content"].strip()] == ["Quito", "Lima"]
    roles = [message.name for message in app.chat_message]
    assert roles == ["user", "assistant", "user", "assistant"] * 2, "each column shows both questions, both answered"
    copies = [code.value.strip() for code in app.code]
    earlier = [history[1]["content"].strip(), history[2]["content"].strip()]  # tuned, then base
    assert copies == earlier, "each column's earlier answer has its copy box (plain text with a copy button)"


def test_an_adapter_zip_imported_on_the_empty_playground_answers_there(demo_home, trained_demo, monkeypatch):
    from workbench.results import export

    monkeypatch.setenv("WORKBENCH_HOME", str(trained_demo.home))
    data = export.adapter_zip_bytes(directory.get_run(trained_demo.run_id))
    monkeypatch.setenv("WORKBENCH_HOME", str(demo_home))
    app = open_page("app_pages/playground.py")
    assert "or import an adapter made elsewhere" in texts(app)
    app.file_uploader(key="adapter_zip").set_value(("adapter.zip", data, "application/zip"))
    app.text_input[1].set_value("from the cluster")
    next(button for button in app.button if button.label == "Import").click().run()
    assert not app.exception, app.exception
    [run] = directory.list_runs()
    assert app.selectbox[0].value == run.run_id and run.run_id.endswith("from-the-cluster")
    app.chat_input[0].set_value("Which city is mentioned? Lena has lived in Quito for ten years.").run()
    assert app.session_state[f"chat_{run.run_id}"][-1]["content"].strip() == "Quito"


def test_other_runs_on_the_same_base_answer_in_their_own_columns(demo_home, trained_demo):
    copy_trained_run(trained_demo, demo_home, "20260101-000000-first")
    copy_trained_run(trained_demo, demo_home, "20260101-000001-second")
    app = open_page("app_pages/playground.py")
    assert app.selectbox[0].value == "20260101-000001-second"
    app.multiselect(key="compare_runs").select("20260101-000000-first").run()
    app.chat_input[0].set_value("Which city is mentioned? Lena has lived in Quito for ten years.").run()
    assert not app.exception
    history = app.session_state["chat_20260101-000001-second"]
    assert [(turn.get("model"), turn["content"].strip()) for turn in history[1:]] == [
        ("tuned", "Quito"),
        ("20260101-000000-first", "Quito"),
    ]
    assert "Run 20260101-000000-first" in texts(app)


def test_playground_answers_become_a_feedback_dataset_version(demo_home, trained_demo):
    copy_trained_run(trained_demo, demo_home)
    app = open_page("app_pages/playground.py")
    app.chat_input[0].set_value("Which city is mentioned? Lena has lived in Quito for ten years.").run()
    [answer] = [area for area in app.text_area if area.key.startswith("feedback_answer_")]
    answer.set_value("Quito").run()
    next(button for button in app.button if button.label == "Add this example").click().run()
    assert len(app.session_state["feedback_examples"]) == 1
    next(button for button in app.button if button.label == "Save them as a dataset version").click().run()
    assert not app.exception, app.exception
    assert "Saved playground-feedback v1 with 1 examples" in texts(app)
    [version] = library.list_versions(feedback.FEEDBACK_NAME)
    assert sources.load_rows(str(version.path))[0]["messages"][-1] == {"role": "assistant", "content": "Quito"}
