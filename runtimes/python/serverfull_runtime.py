"""serverfull's runtime client for Python functions.

Runs one execution environment as AWS's Python runtime (awslambdaric) does: imports the handler
module once (``_HANDLER``, ``module.function``, the task root first on ``sys.path``), then pulls
events from the Runtime API at ``AWS_LAMBDA_RUNTIME_API`` over HTTP, calls the handler with the
event and a context object, and posts its result or its error in the shape AWS's Python runtime
gives errors (``errorMessage``, ``errorType``, ``requestId``, ``stackTrace`` as a list of strings).
``print`` goes to stdout and ``logging`` through a root handler in AWS's text format; both become
the invocation's log. Standard library only: nothing to install.
"""
import http.client
import importlib
import json
import logging
import os
import sys
import time
import traceback

RUNTIME_PATH = "/2018-06-01/runtime"
ERROR_TYPE_HEADER = "Lambda-Runtime-Function-Error-Type"
THIS_FILE = os.path.abspath(__file__)

# The request id the logging filter stamps on records: the invocation in flight, or the last one.
current_request_id = ""
TRACE_VARIABLE = "_X_AMZN_TRACE_ID"


class TraceVariable(object):
    """``_X_AMZN_TRACE_ID``, set for each invocation without ``setenv``.

    ``os.environ[...] = value`` calls the C library's ``setenv``, and glibc keeps every string ``setenv`` was ever
    given (a caller may still hold one): a new trace header at every invocation grew a long-lived runtime by about
    160 bytes per invocation for good. Here the variable is one of two buffers of this object, written in turn and
    handed to ``putenv``, which puts the buffer itself in the environment (no copy); ``os.environ`` is told the value
    without a second ``setenv``. Child processes and native code see it, as before. Where ctypes or glibc is not
    there, it falls back to ``os.environ``.
    """

    def __init__(self):
        self.turn = 0
        # Buffers replaced by longer ones, kept for good: the environment may still point at one.
        self.outgrown = []
        try:
            import ctypes
            libc = ctypes.CDLL(None, use_errno=True)
            libc.putenv.argtypes = [ctypes.c_char_p]
            self.ctypes, self.putenv = ctypes, libc.putenv
            self.key = os.environ.encodekey(TRACE_VARIABLE)
            self.data = os.environ._data
            self.buffers = [ctypes.create_string_buffer(256), ctypes.create_string_buffer(256)]
        except (ImportError, OSError, AttributeError):
            self.putenv = None

    def set(self, value):
        if not value:
            os.environ.pop(TRACE_VARIABLE, None)
            return
        if self.putenv is None:
            os.environ[TRACE_VARIABLE] = value
            return
        entry = (TRACE_VARIABLE + "=" + value).encode("utf-8", "surrogateescape") + b"\0"
        # The buffer not in the environment now is rewritten, then swapped in: a reader never sees one half written.
        self.turn ^= 1
        if len(entry) > len(self.buffers[self.turn]):
            self.outgrown.append(self.buffers[self.turn])
            self.buffers[self.turn] = self.ctypes.create_string_buffer(len(entry) * 2)
        buffer = self.buffers[self.turn]
        self.ctypes.memmove(buffer, entry, len(entry))
        if self.putenv(self.ctypes.cast(buffer, self.ctypes.c_char_p)) != 0:
            os.environ[TRACE_VARIABLE] = value
            return
        self.data[self.key] = os.environ.encodevalue(value)


class FaultException(Exception):
    """An error of the runtime's own (``Runtime.*``), reported with a fixed type and message."""

    IMPORT_MODULE_ERROR = "Runtime.ImportModuleError"
    BUILT_IN_MODULE_CONFLICT = "Runtime.BuiltInModuleConflict"
    MALFORMED_HANDLER_NAME = "Runtime.MalformedHandlerName"
    USER_CODE_SYNTAX_ERROR = "Runtime.UserCodeSyntaxError"
    HANDLER_NOT_FOUND = "Runtime.HandlerNotFound"
    MARSHAL_ERROR = "Runtime.MarshalError"
    UNMARSHAL_ERROR = "Runtime.UnmarshalError"

    def __init__(self, exception_type, msg, trace=None):
        super().__init__(msg)
        self.exception_type = exception_type
        self.msg = msg
        self.trace = trace


class CognitoIdentity(object):
    __slots__ = ["cognito_identity_id", "cognito_identity_pool_id"]


class Client(object):
    __slots__ = ["installation_id", "app_title", "app_version_name", "app_version_code", "app_package_name"]


class ClientContext(object):
    __slots__ = ["custom", "env", "client"]


def make_obj_from_dict(_class, _dict):
    if _dict is None:
        return None
    obj = _class()
    for field in _class.__slots__:
        setattr(obj, field, _dict.get(field, None))
    return obj


class LambdaContext(object):
    """The context object AWS's Python runtime passes: the same attributes, from the same sources."""

    def __init__(self, invoke_id, client_context, cognito_identity, epoch_deadline_time_in_ms, invoked_function_arn=None):
        self.aws_request_id = invoke_id
        self.log_group_name = os.environ.get("AWS_LAMBDA_LOG_GROUP_NAME")
        self.log_stream_name = os.environ.get("AWS_LAMBDA_LOG_STREAM_NAME")
        self.function_name = os.environ.get("AWS_LAMBDA_FUNCTION_NAME")
        self.memory_limit_in_mb = os.environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE")
        self.function_version = os.environ.get("AWS_LAMBDA_FUNCTION_VERSION")
        self.invoked_function_arn = invoked_function_arn
        self.client_context = make_obj_from_dict(ClientContext, client_context)
        if self.client_context is not None:
            self.client_context.client = make_obj_from_dict(Client, self.client_context.client)
        self.identity = make_obj_from_dict(CognitoIdentity, {})
        if cognito_identity is not None:
            self.identity.cognito_identity_id = cognito_identity.get("cognitoIdentityId")
            self.identity.cognito_identity_pool_id = cognito_identity.get("cognitoIdentityPoolId")
        self._epoch_deadline_time_in_ms = epoch_deadline_time_in_ms

    def get_remaining_time_in_millis(self):
        delta_ms = self._epoch_deadline_time_in_ms - int(time.time() * 1000)
        return delta_ms if delta_ms > 0 else 0

    def log(self, msg):
        sys.stdout.write(str(msg))

    def __repr__(self):
        return (
            "LambdaContext([aws_request_id={},log_group_name={},log_stream_name={},function_name={},"
            "memory_limit_in_mb={},function_version={},invoked_function_arn={},client_context={},identity={}])"
        ).format(self.aws_request_id, self.log_group_name, self.log_stream_name, self.function_name, self.memory_limit_in_mb,
                 self.function_version, self.invoked_function_arn, self.client_context, self.identity)


class RuntimeApi(object):
    """The Runtime API over one kept-alive HTTP connection (re-opened once if the server closed it)."""

    def __init__(self, address):
        self.address = address
        self.connection = None

    def call(self, method, path, body=None, headers=None):
        for attempt in (0, 1):
            if self.connection is None:
                self.connection = http.client.HTTPConnection(self.address)
            try:
                self.connection.request(method, RUNTIME_PATH + path, body=body, headers=headers or {})
                response = self.connection.getresponse()
                return response, response.read()
            except (http.client.HTTPException, ConnectionError):
                self.connection.close()
                self.connection = None
                if attempt == 1:
                    raise

    def next(self):
        response, body = self.call("GET", "/invocation/next")
        if response.status != 200:
            raise RuntimeError("invocation/next answered %d: %s" % (response.status, body[:200]))
        return response.headers, body

    def post_response(self, invoke_id, payload):
        self.call("POST", "/invocation/%s/response" % invoke_id, payload, {"Content-Type": "application/json"})

    def post_error(self, invoke_id, error):
        self.call("POST", "/invocation/%s/error" % invoke_id, to_json(error), {ERROR_TYPE_HEADER: error["errorType"]})

    def post_init_error(self, error):
        self.call("POST", "/init/error", to_json(error), {ERROR_TYPE_HEADER: error["errorType"]})


def decimal_serializer(o):
    # Imported only here: only a result JSON cannot hold as it is comes here, and the import costs a cold start.
    import decimal
    if isinstance(o, decimal.Decimal):
        return float(o)
    raise TypeError(repr(o) + " is not JSON serializable")


def to_json(obj):
    return json.dumps(obj, default=decimal_serializer)


def make_error(error_message, error_type, stack_trace, invoke_id=None):
    return {
        "errorMessage": error_message if error_message else "",
        "errorType": error_type if error_type else "Exception",
        "requestId": invoke_id if invoke_id is not None else "",
        "stackTrace": stack_trace if stack_trace else [],
    }


def user_stack_trace(tb):
    """The traceback's frames from the first one outside this client, formatted as AWS's runtime formats them."""
    frames = [(frame.filename, frame.lineno, frame.name, frame.line) for frame in traceback.extract_tb(tb)]
    for index, frame in enumerate(frames):
        if frame[0] != THIS_FILE:
            frames = frames[index:]
            break
    else:
        frames = []
    return traceback.format_list(frames)


def exception_error(invoke_id=None):
    """The error of the exception being handled."""
    etype, value, tb = sys.exc_info()
    return make_error(str(value), etype.__name__, user_stack_trace(tb), invoke_id)


def log_error(error):
    lines = ["[ERROR]"]
    if error.get("errorType"):
        lines[0] += " " + error["errorType"]
    if error.get("errorMessage"):
        if error.get("errorType"):
            lines[0] += ":"
        lines[0] += " " + error["errorMessage"]
    stack_trace = error.get("stackTrace")
    if stack_trace is not None:
        lines.append("Traceback (most recent call last):")
        for element in stack_trace:
            lines.extend([""] if element == "" else element.splitlines())
    sys.stdout.write("\n".join(lines) + "\n")


class LambdaLoggerFilter(logging.Filter):
    def filter(self, record):
        record.aws_request_id = current_request_id
        return True


class LambdaLoggerHandler(logging.Handler):
    def emit(self, record):
        sys.stdout.write(self.format(record))


def setup_logging():
    """AWS's text format on the root logger; its level stays Python's default (WARNING) unless the function sets one."""
    logging.Formatter.converter = time.gmtime
    handler = LambdaLoggerHandler()
    handler.setFormatter(logging.Formatter(
        "[%(levelname)s]\t%(asctime)s.%(msecs)03dZ\t%(aws_request_id)s\t%(message)s\n", "%Y-%m-%dT%H:%M:%S"))
    handler.addFilter(LambdaLoggerFilter())
    logging.getLogger().addHandler(handler)
    level = os.environ.get("AWS_LAMBDA_LOG_LEVEL", "").upper()
    if level in ("TRACE", "DEBUG", "INFO", "WARN", "WARNING", "ERROR", "FATAL", "CRITICAL"):
        logging.getLogger().setLevel({"TRACE": "DEBUG", "WARN": "WARNING", "FATAL": "CRITICAL"}.get(level, level))


def fault_handler(fault):
    def handler(*args):
        raise fault
    return handler


def load_handler(handler):
    """The handler function; raises FaultException for what AWS reports as a runtime error of init."""
    try:
        modname, fname = handler.rsplit(".", 1)
    except ValueError as e:
        raise FaultException(FaultException.MALFORMED_HANDLER_NAME, "Bad handler '{}': {}".format(handler, str(e)))
    try:
        if modname.split(".")[0] in sys.builtin_module_names:
            raise FaultException(FaultException.BUILT_IN_MODULE_CONFLICT, "Cannot use built-in module {} as a handler module".format(modname))
        module = importlib.import_module(modname.replace("/", "."))
    except ImportError as e:
        raise FaultException(FaultException.IMPORT_MODULE_ERROR, "Unable to import module '{}': {}".format(modname, str(e)))
    except SyntaxError as e:
        trace = ['  File "%s" Line %s\n    %s' % (e.filename, e.lineno, e.text)]
        raise FaultException(FaultException.USER_CODE_SYNTAX_ERROR, "Syntax error in module '{}': {}".format(modname, str(e)), trace)
    try:
        return getattr(module, fname)
    except AttributeError:
        # As in AWS, a missing function fails each invocation, not the init.
        return fault_handler(FaultException(FaultException.HANDLER_NOT_FOUND, "Handler '{}' missing on module '{}'".format(fname, modname)))


def optional_json(text):
    return json.loads(text) if text else None


def handle(api, handler, headers, body, trace):
    global current_request_id
    invoke_id = headers.get("Lambda-Runtime-Aws-Request-Id", "")
    current_request_id = invoke_id
    trace.set(headers.get("Lambda-Runtime-Trace-Id"))
    error = None
    try:
        try:
            event = json.loads(body)
        except ValueError as e:
            raise FaultException(FaultException.UNMARSHAL_ERROR, "Unable to unmarshal input: {}".format(str(e)))
        context = LambdaContext(
            invoke_id,
            optional_json(headers.get("Lambda-Runtime-Client-Context")),
            optional_json(headers.get("Lambda-Runtime-Cognito-Identity")),
            int(headers.get("Lambda-Runtime-Deadline-Ms", "0")),
            headers.get("Lambda-Runtime-Invoked-Function-Arn"),
        )
        result = handler(event, context)
        try:
            payload = to_json(result)
        except (TypeError, ValueError) as e:
            raise FaultException(FaultException.MARSHAL_ERROR, "Unable to marshal response: {}".format(str(e)))
    except FaultException as e:
        error = make_error(e.msg, e.exception_type, e.trace, invoke_id)
    except Exception:
        error = exception_error(invoke_id)
    if error is not None:
        log_error(error)
        api.post_error(invoke_id, error)
    else:
        api.post_response(invoke_id, payload)


def main():
    api = RuntimeApi(os.environ["AWS_LAMBDA_RUNTIME_API"])
    task_root = os.environ.get("LAMBDA_TASK_ROOT") or os.getcwd()
    # The function's modules, not this client's folder, come first, as `/var/task` does in AWS.
    client_folder = os.path.dirname(THIS_FILE)
    sys.path[:] = [task_root] + [p for p in sys.path if p not in ("", client_folder, task_root)]
    setup_logging()
    try:
        handler = load_handler(os.environ.get("_HANDLER", ""))
    except FaultException as e:
        error = make_error(e.msg, e.exception_type, e.trace)
    except Exception:
        error = exception_error()
    else:
        error = None
    if error is not None:
        log_error(error)
        api.post_init_error(error)
        sys.exit(1)
    trace = TraceVariable()
    while True:
        headers, body = api.next()
        handle(api, handler, headers, body, trace)


if __name__ == "__main__":
    main()
