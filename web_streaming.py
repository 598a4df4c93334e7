"""Stream tokens to a web page through a callback handler made per request.

Each request gets its own `AsyncCallbackHandler`, passed at run time. It puts that request's
tokens, and a few callback events, on the request's own queue, and the endpoint sends them to
the page as Server-Sent Events. The page reads them with `EventSource`. The demo shows three
traps: a handler on a shared model's constructor, a reader who leaves, and buffering proxies.
Docs: https://developer.mozilla.org/en-US/docs/Web/API/Server-sent_events/Using_server-sent_events

Run: python web_streaming.py          serve the page on 127.0.0.1:8000 (--port, HOST)
     python web_streaming.py --demo   start, run two readers at once, show the traps, exit
"""

import argparse
import asyncio
import json
import os
import socket
from pathlib import Path

import uvicorn
from fastapi import FastAPI
from fastapi.responses import HTMLResponse, JSONResponse, StreamingResponse
from langchain_core.callbacks import AsyncCallbackHandler
from langchain_openai import ChatOpenAI

import tutorial_env
from tutorial_env.web_demo import read_like_browsers

tutorial_env.load()  # in place of load_dotenv(): your .env key, or the offline model

MAX_QUESTION = 500  # characters
PAGE = Path(__file__).parent / "pages" / "web_streaming.html"
# nginx passes a proxied response on in lumps unless told not to; no cache may keep a copy.
NO_BUFFERING = {"Cache-Control": "no-store", "X-Accel-Buffering": "no"}
app = FastAPI()
llm = ChatOpenAI(model=os.environ["OPENAI_MODEL"], streaming=True)  # shared: no callbacks
endings = []  # how each stream ended: "finished", or what the server said when a reader left
open_streams = set()  # the queues of the streams still running: Ctrl-C ends each one


class StreamToPage(AsyncCallbackHandler):
    """Made for one request: puts that request's tokens and callback events on its queue."""

    def __init__(self, queue):
        self.queue, self.names = queue, {}

    async def on_chat_model_start(self, serialized, messages, *, run_id, **kwargs):
        self.names[run_id] = serialized["name"]
        self.queue.put_nowait(
            ("callback", {"hook": "on_chat_model_start", "name": self.names[run_id]})
        )

    async def on_llm_new_token(self, token, *, chunk, **kwargs):
        if chunk.text:  # some chunks carry no text; on the Responses API `token` is a list
            self.queue.put_nowait(("token", chunk.text))

    async def on_llm_end(self, response, *, run_id, **kwargs):
        self.queue.put_nowait(("callback", {"hook": "on_llm_end", "name": self.names[run_id]}))

    async def on_llm_error(self, error, *, run_id, **kwargs):
        self.queue.put_nowait(("callback", {"hook": "on_llm_error", "name": self.names[run_id]}))


def sse(event, data):
    return f"event: {event}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n"


def one_line(error):
    """The message the command-line lessons print for this error."""
    explained = tutorial_env.explain(error)
    return explained[1] if explained else tutorial_env.mask(f"The model call failed: {error!r}")


async def relay(call, queue):
    """Run the model call, and yield its queue's events as SSE until the call ends."""
    task = asyncio.create_task(call)
    task.add_done_callback(lambda _: queue.put_nowait(("end", None)))
    open_streams.add(queue)
    tokens, event = 0, (None, None)
    try:
        while (event := await queue.get())[0] not in ("end", "stop"):
            tokens += event[0] == "token"
            yield sse(*event)
        if event[0] == "stop":
            yield sse("error", {"message": "The server stopped before the answer was complete."})
        elif task.exception():
            yield sse("error", {"message": one_line(task.exception())})
        else:
            yield sse("done", {"answer": task.result().text})
    finally:
        open_streams.discard(queue)
        if task.done():
            endings.append("finished")
        else:  # the reader left, or the server is stopping: nobody will read the rest
            task.cancel()
            who = "the server stopped" if event[0] == "stop" else "client left"
            endings.append(f"{who} after {tokens} tokens; model call cancelled")
            print(endings[-1], flush=True)


def bad_question(question):
    if not question.strip():
        return JSONResponse({"error": "Ask a question: ?question=..."}, status_code=400)
    if len(question) > MAX_QUESTION:
        message = f"The question is {len(question)} characters; the limit is {MAX_QUESTION}."
        return JSONResponse({"error": message}, status_code=400)
    return None


@app.get("/")
async def page():
    return HTMLResponse(PAGE.read_text(encoding="utf-8"))


@app.get("/stream")
async def stream(question: str = ""):
    if refusal := bad_question(question):
        return refusal
    queue = asyncio.Queue()
    call = llm.ainvoke(question, config={"callbacks": [StreamToPage(queue)]})
    return StreamingResponse(
        relay(call, queue), media_type="text/event-stream", headers=NO_BUFFERING
    )


# The trap, for the demo only: one handler on a shared model's constructor hears every
# request, so whatever it forwards reaches every open page.
class ToEveryPage(AsyncCallbackHandler):
    async def on_llm_new_token(self, token, *, chunk, **kwargs):
        if chunk.text:
            for queue in open_streams:
                queue.put_nowait(("token", chunk.text))


shared = ChatOpenAI(model=os.environ["OPENAI_MODEL"], streaming=True, callbacks=[ToEveryPage()])


@app.get("/stream-shared")
async def stream_shared(question: str = ""):
    call = shared.ainvoke(question)
    return StreamingResponse(
        relay(call, asyncio.Queue()), media_type="text/event-stream", headers=NO_BUFFERING
    )


def listen(host, port):
    try:
        return socket.create_server((host, port))
    except OSError as error:
        reason = os.strerror(error.errno) if error.errno else str(error)
        raise SystemExit(
            f"[config] cannot listen on {host}:{port} ({reason}). "
            f"Try another port: python web_streaming.py --port {port + 1}"
        ) from None


class Server(uvicorn.Server):
    """uvicorn's server. On Ctrl-C it first ends the open streams: uvicorn itself would wait
    a second for them, then cancel them with a traceback each."""

    def handle_exit(self, sig, frame):
        for queue in open_streams:  # a signal handler: let the event loop do the putting
            asyncio.get_running_loop().call_soon_threadsafe(queue.put_nowait, ("stop", None))
        super().handle_exit(sig, frame)


async def serve(sock, run_demo):
    server = Server(uvicorn.Config(app, log_level="warning", timeout_graceful_shutdown=1))
    if not run_demo:
        return await server.serve(sockets=[sock])
    serving = asyncio.create_task(server.serve(sockets=[sock]))
    url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    while not (server.started or serving.done()):  # up, or failed to start
        await asyncio.sleep(0.01)
    try:
        if server.started:
            await read_like_browsers(url, endings, MAX_QUESTION)
    finally:  # stop the server cleanly, even when the demo ends in an [error] line
        server.should_exit = True
        await serving


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8000, help="default 8000")
    parser.add_argument(
        "--demo", action="store_true", help="run two readers and the traps, then exit"
    )
    args = parser.parse_args()
    if args.demo:
        sock = listen("127.0.0.1", 0)  # any free port
    else:
        host = os.environ.get("HOST", "127.0.0.1")
        sock = listen(host, args.port)
        print(f"Open http://{host}:{args.port}/ in a browser. Ctrl-C stops the server.", flush=True)
    asyncio.run(serve(sock, args.demo))


if __name__ == "__main__":
    main()
