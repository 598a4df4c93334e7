from lessons import section

LESSON = "callbacks_runtime.py"


def test_runs_offline_and_matches_expected(output):
    assert output.startswith("[offline] no OPENAI_API_KEY is set: answering with the built-in fake")


def test_runtime_handler_reaches_every_child_with_tags_and_metadata(output):
    lines = section(output, 1).splitlines()
    assert "on_chain_start: JokeChain  tags=['lesson-1'] metadata={'user': 'ada'}" in lines
    for child in (
        "on_chain_start: ChatPromptTemplate",
        "on_chat_model_start: ChatOpenAI",
        "on_chain_start: StrOutputParser",
    ):
        line = next(line for line in lines if line.strip().startswith(child))
        assert line.startswith("  "), f"{child} is not indented under the root run"
        assert "'lesson-1'" in line and "metadata={'user': 'ada'}" in line


def test_run_name_names_only_the_invoked_run(output):
    lines = section(output, 1).splitlines()
    starts = [line.split(": ")[1].split()[0] for line in lines if "_start: " in line]
    assert starts == ["JokeChain", "ChatPromptTemplate", "ChatOpenAI", "StrOutputParser"]
    assert "run_name named only the run you invoked: JokeChain. Its children kept their" in lines
    assert "own names: ChatPromptTemplate, ChatOpenAI, StrOutputParser." in lines
    assert "tags and metadata reached 4 of the 4 runs." in lines


def test_tool_the_model_asked_for_is_a_child_run(output):
    lines = section(output, 2).splitlines()
    assert "    on_tool_start: add  tags=['lesson-1'] metadata={'user': 'ada'}" in lines
    assert "    on_tool_end: add -> '5'" in lines
    assert "Tool results: ['5']" in lines


def test_invoke_without_config_fires_nothing(output):
    assert "Events the handler received during that call: 0" in section(output, 3)


def test_a_model_that_calls_the_tool_gets_no_skipped_tool_note(output):
    assert "[note] the model answered without" not in output
