"""AppTest of the Data and Datasets pages through app.py's st.navigation, with the real core underneath.

The token counts use a tiny tokenizer folder (the demo's chat template) typed into the model box, so these tests
need neither the demo model nor the network.
"""

import io
import json
import re
from pathlib import Path

import pytest
from conftest import REAL_DATASETS
from streamlit.testing.v1 import AppTest
from tiny_tokenizers import tokenizer_folder

from workbench.data import library


APP = str(Path(__file__).resolve().parents[2] / "app.py")
BAD_FILE = b'{"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "yo"}]}\n{oops\n'


def chat(i: int) -> str:
    return json.dumps(
        {"messages": [{"role": "user", "content": f"q {i}"}, {"role": "assistant", "content": f"a {i}"}]}
    )


GOOD_FILE = ("\n".join(chat(i) for i in range(12)) + "\n").encode()
FLAWED_FILE = ("\n".join([chat(i) for i in range(12)] + [chat(2), '{"messages": "oops"}']) + "\n").encode()


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory):
    return str(tokenizer_folder(tmp_path_factory.mktemp("tiny-model")))


def open_page(page: str, model: str | None = None) -> AppTest:
    app = AppTest.from_file(APP, default_timeout=120)
    if model:  # typed into the model box before the page first draws
        app.session_state["data_model"] = app.session_state["datasets_model"] = model
    app.run().switch_page(page).run()
    assert not app.exception, app.exception
    return app


def upload(app: AppTest, name: str, content: bytes) -> AppTest:
    app.file_uploader(key="data_upload").set_value((name, content, "application/octet-stream")).run()
    assert not app.exception, app.exception
    return app


def texts(app: AppTest) -> str:
    kinds = ("markdown", "success", "error", "info", "caption", "warning")
    return "\n".join(str(element.value) for kind in kinds for element in app.get(kind))


def click(app: AppTest, label: str) -> AppTest:
    next(button for button in app.button if button.label == label).click().run()
    assert not app.exception, app.exception
    return app


def test_data_page_names_bad_lines_and_previews_good_ones(home, tiny_model):
    app = open_page("app_pages/data.py", tiny_model)
    assert "No file yet" in texts(app)
    upload(app, "mixed.jsonl", BAD_FILE)
    assert "Line 2: This line is not valid JSON" in texts(app)
    assert [message.name for message in app.chat_message] == ["user", "assistant"]


def test_data_page_keeps_a_good_upload_for_training(home, tiny_model):
    app = upload(open_page("app_pages/data.py", tiny_model), "demo.jsonl", GOOD_FILE)
    assert any("Loaded 12 conversations from demo.jsonl" in element.value for element in app.success)
    click(app, "Use this dataset for training")
    stored = Path(app.session_state["train_values"]["dataset"])  # the Train page took it
    assert stored.is_relative_to(home / "datasets") and stored.read_bytes() == GOOD_FILE
    assert app.selectbox(key="train_dataset_pick").value == "demo v1 (12 records)"


@pytest.mark.parametrize(
    ("file_name", "layout"),
    [
        ("openai_toy_chat_fine_tuning.jsonl", "OpenAI chat messages in a JSONL file"),
        ("llamafactory_glaive_toolcall_en_demo.json", "ShareGPT conversations in a JSON file"),
        ("llamafactory_alpaca_en_demo.json", "Alpaca instructions in a JSON file"),
        ("llamafactory_identity.json", "Alpaca instructions in a JSON file"),
    ],
)
def test_each_real_dataset_uploads_and_previews(home, tiny_model, file_name, layout):
    app = upload(open_page("app_pages/data.py", tiny_model), file_name, (REAL_DATASETS / file_name).read_bytes())
    assert f"Read as {layout}." in texts(app) and "Turns by role: " in texts(app)
    assert {"user", "assistant"} <= {message.name for message in app.chat_message}
    [chart] = app.get("plotly_chart")
    spec = json.loads(chart.proto.spec)
    assert spec["data"][0]["type"] == "histogram" and spec["layout"]["shapes"][0]["x0"] == 512


def test_tool_calls_are_previewed_as_code(home, tiny_model):
    app = upload(
        open_page("app_pages/data.py", tiny_model),
        "glaive.json",
        (REAL_DATASETS / "llamafactory_glaive_toolcall_en_demo.json").read_bytes(),
    )
    assert any("search_recipes" in block.value for block in app.code)
    assert "leaves out the tool calls" in texts(app)


def test_csv_and_parquet_upload(home, tiny_model):
    import pyarrow as pa
    import pyarrow.parquet as pq

    rows = [{"prompt": f"q {i}", "completion": f"a {i}"} for i in range(12)]
    out = io.BytesIO()
    pq.write_table(pa.Table.from_pylist(rows), out)
    app = upload(open_page("app_pages/data.py", tiny_model), "pairs.parquet", out.getvalue())
    assert "Loaded 12 conversations from pairs.parquet" in texts(app)
    csv = ("prompt,completion\n" + "".join(f"q {i},a {i}\n" for i in range(12))).encode()
    app = upload(open_page("app_pages/data.py", tiny_model), "pairs.csv", csv)
    assert "Read as prompt and completion in a CSV file." in texts(app)


def test_unknown_csv_columns_are_mapped_instead_of_failing(home, tiny_model):
    csv = ("Frage,Antwort\n" + "".join(f"q {i},a {i}\n" for i in range(12))).encode()
    app = upload(open_page("app_pages/data.py", tiny_model), "faq.csv", csv)
    assert "Which column holds what?" in texts(app) and not app.chat_message
    app.selectbox(key="map_prompt").set_value("Frage")
    app.selectbox(key="map_completion").set_value("Antwort")
    click(app, "Use these columns")
    assert "Loaded 12 conversations from faq.csv" in texts(app)
    assert "(columns mapped by hand)" in texts(app)
    assert [message.name for message in app.chat_message][:2] == ["user", "assistant"]


def test_clean_and_save_a_new_version_then_train_on_it(home, tiny_model):
    app = upload(open_page("app_pages/data.py", tiny_model), "flawed.jsonl", FLAWED_FILE)
    assert 'Line 14: The "messages" field must be a list' in texts(app).replace("\\", "")
    assert "Line 13: The same conversation already appears on line 3" in texts(app)
    click(app, "Save as a new dataset version")
    assert "Saved flawed v2: 12 records (messages)" in texts(app)
    click(app, "Use this version for training")
    version = library.version_for_path(Path(app.session_state["train_values"]["dataset"]))
    assert (version.version, version.rows, version.parent) == (2, 12, 1)
    assert app.selectbox(key="train_dataset_pick").value == "flawed v2 (12 records)"


def test_bad_model_and_too_big_file_get_a_sentence_not_a_traceback(home, tiny_model, monkeypatch):
    app = upload(open_page("app_pages/data.py", "/nowhere/model"), "ok.jsonl", GOOD_FILE)
    assert "There is no model folder with a config.json at /nowhere/model" in texts(app)
    monkeypatch.setenv("WORKBENCH_MAX_DATASET_MB", "0.0001")
    app = upload(open_page("app_pages/data.py", tiny_model), "ok.jsonl", GOOD_FILE)
    assert "more than this server's limit" in texts(app)


def test_server_folder_files_can_be_picked(home, tiny_model, tmp_path, monkeypatch):
    (tmp_path / "team.jsonl").write_bytes(GOOD_FILE)
    monkeypatch.setenv("WORKBENCH_DATASETS_DIR", str(tmp_path))
    app = open_page("app_pages/data.py", tiny_model)
    app.radio(key="data_source").set_value("Pick from the server folder").run()
    assert "Loaded 12 conversations from team.jsonl" in texts(app)


def test_datasets_page_is_empty_at_first(home):
    assert "No datasets yet" in texts(open_page("app_pages/datasets.py"))


def test_datasets_page_shows_what_the_model_sees_and_splits_a_version(home, tiny_model):
    click(
        upload(open_page("app_pages/data.py", tiny_model), "flawed.jsonl", FLAWED_FILE),
        "Save as a new dataset version",
    )
    app = open_page("app_pages/datasets.py", tiny_model)
    assert "flawed v2: 12 conversations are ready for training." in texts(app)
    [html] = app.get("html")
    assert 'title="trained">&lt;|im_end|&gt;</span>' in html.proto.body, "the answer's end token is trained"
    app.slider(key="datasets_share").set_value(25)
    click(app, "Save a new version with this split")
    version = library.list_versions(library.list_datasets()[0][0].dataset_id)[-1]
    assert (version.version, version.rows, version.validation_rows) == (3, 9, 3)
    assert "v2 split at random: 3 records (25%, seed 0) for validation." in version.note
    click(app, "Use this version for training")
    assert app.selectbox(key="train_dataset_pick").value == "flawed v3 (9 records + 3 validation)"


def test_a_separate_validation_file_warns_about_overlap(home, tiny_model):
    click(
        upload(open_page("app_pages/data.py", tiny_model), "chats.jsonl", GOOD_FILE), "Save as a new dataset version"
    )
    app = open_page("app_pages/datasets.py", tiny_model)
    app.radio(key="how").set_value("a separate file").run()
    held_out = ("\n".join([chat(0), chat(50), chat(51)]) + "\n").encode()
    app.file_uploader(key="datasets_validation_upload").set_value(("held.jsonl", held_out, "text/plain")).run()
    assert "Line 1: This validation record also appears in the training data" in texts(app)
    click(app, "Save a new version with this validation file")
    version = library.list_versions(library.list_datasets()[0][0].dataset_id)[-1]
    assert (version.version, version.rows, version.validation_rows) == (2, 12, 3)


def test_the_web_process_never_validates_an_upload_itself(home, tiny_model, monkeypatch):
    # Regression: the Data page kept four whole reports (every row) in the server, 1.5-1.9 GB after two large
    # uploads, and a slow check held the thread that served everyone. The check now runs in a bounded child
    # process; here any validation in this (the web) process fails the test.
    from workbench.data import validation

    def not_here(*args, **kwargs):
        raise AssertionError("validated inside the web process")

    monkeypatch.setattr(validation, "validate", not_here)
    app = upload(open_page("app_pages/data.py", tiny_model), "flawed.jsonl", FLAWED_FILE)
    assert "13 of 14 records are usable" in texts(app), "the check ran, elsewhere"
    next(button for button in app.button if button.label.startswith("Save as a new dataset version")).click().run()
    assert not app.exception and "Saved flawed v2" in texts(app)


def test_saving_twice_makes_one_version_and_says_it_is_already_saved(home, tiny_model):
    app = upload(open_page("app_pages/data.py", tiny_model), "flawed.jsonl", FLAWED_FILE)
    click(app, "Save as a new dataset version")
    assert "Saved flawed v2" in texts(app)
    click(app, "Save as a new dataset version")
    assert "already saved as flawed v2; no second copy was made" in texts(app)
    [versions] = library.list_datasets()
    assert [version.version for version in versions] == [1, 2]


def test_placeholders_are_filled_in_from_a_form_and_saved_as_a_version(home, tiny_model):
    content = (REAL_DATASETS / "llamafactory_identity.json").read_bytes()
    app = upload(open_page("app_pages/data.py", tiny_model), "identity.json", content)
    assert "warning · placeholder" in texts(app), "each problem shows its severity and code"
    app.text_input(key="data_fill_name").input("Aria")
    app.text_input(key="data_fill_author").input("Acme Labs")
    click(app, "Save as a new dataset version")
    assert "Filled in {{name}} = 'Aria', {{author}} = 'Acme Labs'." in texts(app)
    saved = library.list_datasets()[0][-1]
    text = saved.path.read_text()
    assert not re.findall(r"\{\{\w+\}\}", text), re.findall(r".{60}\{\{\w+\}\}", text)[:3]
    assert text.count("Aria") == 77 and "Acme Labs" in text


def test_the_preview_pages_through_every_record_with_a_search_and_shows_tool_schemas(home, tiny_model):
    content = (REAL_DATASETS / "llamafactory_glaive_toolcall_en_demo.json").read_bytes()
    app = upload(open_page("app_pages/data.py", tiny_model), "glaive.json", content)
    assert "300 records · page 1 of 60" in texts(app)
    app.number_input(key="data_preview_page").set_value(60).run()
    assert "Record 300" in texts(app)
    app.text_input(key="data_preview_query").input("search_recipes").run()
    matching = next(caption.value for caption in app.caption if " match · page " in caption.value)
    assert int(matching.split()[0]) < 300
    assert any(expander.label.endswith("described to the model") for expander in app.expander)
    assert any("search_recipes" in str(element.value) for element in app.json)
    app.text_input(key="data_preview_query").input("no such words anywhere").run()
    assert "No record holds “no such words anywhere”." in texts(app)


def test_token_counts_name_the_tokenizer_of_the_chosen_model(home, tiny_model):
    app = upload(open_page("app_pages/data.py", tiny_model), "chats.jsonl", GOOD_FILE)
    assert f"Tokens counted with the tokenizer and chat template of {tiny_model}" in texts(app)
