# SPDX-License-Identifier: GPL-2.0
"""An RPC client for criu (images/rpc.proto, Documentation/rpc.md).

    c = pycriu.criu.criu()
    c.use_binary("./criu/criu")          # criu swrk over a socketpair (default: "criu")
    c.opts.images_dir_fd = os.open(dir, os.O_DIRECTORY)
    c.opts.pid = pid
    resp = c.dump()                      # a criu_resp message

use_sk(PATH) talks to a `criu service` socket instead, use_fd(FD) to a
socket the caller already has. opts is a criu_opts message, sent with every
request. A request criu refuses raises CRIUExceptionExternal (its errno and
criu's first error message); a broken session raises CRIUExceptionInternal.
Notifications (the RPC form of action scripts) are answered by
self.notify(script_name, notify_message), which returns True to go on; the
default accepts every one. An fd criu passes with a notification (the new
pty master of orphan-pts-master) is in self.notify_fds while notify() runs;
notify() may take it (remove it from the list), the others are closed.
"""
import errno
import os
import socket
import subprocess

from .images import pbtypes

MAX_MSG = 1 << 20


class CRIUException(Exception):
    """Base class of the errors of this module."""

    def __init__(self, what, typ=None, err=0):
        super().__init__(what)
        self.typ, self.errno = typ, err


class CRIUExceptionInternal(CRIUException):
    """The session broke: criu did not start, hung up or answered nonsense."""


class CRIUExceptionExternal(CRIUException):
    """criu answered the request with success = false."""

    def __init__(self, req_type, resp_type, err, msg=""):
        what = "criu refused %s: %s" % (req_type, os.strerror(err) if err else "no errno")
        if msg:
            what += " (%s)" % msg
        super().__init__(what, req_type, err)
        self.resp_type, self.errmsg = resp_type, msg


def req_type_name(value):
    return pbtypes.message_class("criu_req").DESCRIPTOR.fields_by_name["type"].enum_type \
        .values_by_number[value].name


class _Session:
    """One connected SOCK_SEQPACKET socket, and the criu swrk behind it if we started one."""

    def __init__(self, sk, proc=None):
        self.sk, self.proc = sk, proc
        self.fds = []

    def send(self, msg):
        self.sk.send(msg.SerializeToString())

    def recv(self):
        data, self.fds, _, _ = socket.recv_fds(self.sk, MAX_MSG, 4)
        if not data:
            raise CRIUExceptionInternal("criu closed the session without an answer")
        resp = pbtypes.new("criu_resp")
        try:
            resp.ParseFromString(data)
        except Exception as e:  # noqa: BLE001 - protobuf's DecodeError and friends
            raise CRIUExceptionInternal("criu's answer is not a criu_resp: %s" % e)
        return resp

    def close(self):
        self.sk.close()
        if self.proc:
            self.proc.wait()


class criu:  # noqa: N801 - the name CRIU's pycriu gives this class
    def __init__(self):
        self.opts = pbtypes.new("criu_opts")
        self._how = ("binary", "criu")
        self.notify_fds = []

    def use_binary(self, path):
        self._how = ("binary", path)

    def use_sk(self, path):
        self._how = ("sk", path)

    def use_fd(self, fd):
        self._how = ("fd", fd)

    def notify(self, script, notify):
        """Called for each notification; return False to make criu fail the request."""
        return True

    def _connect(self):
        how, arg = self._how
        if how == "sk":
            sk = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
            try:
                sk.connect(arg)
            except OSError as e:
                sk.close()
                raise CRIUExceptionInternal("cannot connect to criu service %s: %s" % (arg, e.strerror),
                                            err=e.errno)
            return _Session(sk)
        if how == "fd":
            return _Session(socket.socket(fileno=os.dup(arg)))
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        try:
            proc = subprocess.Popen([arg, "swrk", str(theirs.fileno())], pass_fds=(theirs.fileno(),),
                                    close_fds=True)
        except OSError as e:
            ours.close()
            raise CRIUExceptionInternal("cannot start %s swrk: %s" % (arg, e.strerror), err=e.errno)
        finally:
            theirs.close()
        return _Session(ours, proc)

    def _request(self, typ, **fields):
        req = pbtypes.new("criu_req")
        req.type = req.DESCRIPTOR.fields_by_name["type"].enum_type.values_by_name[typ].number
        if typ not in ("VERSION", "WAIT_PID", "FEATURE_CHECK"):
            req.opts.CopyFrom(self.opts)
            if not req.opts.HasField("images_dir_fd"):
                req.opts.images_dir_fd = -1	# required: -1 means "use images_dir"
        for k, v in fields.items():
            if k == "features":
                req.features.CopyFrom(v)
            else:
                setattr(req, k, v)
        s = self._connect()
        try:
            s.send(req)
            while True:
                resp = s.recv()
                if resp.type != req.DESCRIPTOR.fields_by_name["type"].enum_type.values_by_name["NOTIFY"].number:
                    break
                ans = pbtypes.new("criu_req")
                ans.type = resp.type
                self.notify_fds = list(s.fds)
                try:
                    ans.notify_success = bool(self.notify(resp.notify.script, resp.notify))
                finally:
                    for fd in self.notify_fds:
                        os.close(fd)
                    self.notify_fds = []
                s.send(ans)
        except OSError as e:
            raise CRIUExceptionInternal("talking to criu: %s" % e.strerror, typ, e.errno)
        finally:
            s.close()
        if not resp.success:
            raise CRIUExceptionExternal(typ, req_type_name(resp.type), resp.cr_errno or 0, resp.cr_errmsg)
        if resp.type != req.type:
            raise CRIUExceptionInternal("criu answered %s with %s" % (typ, req_type_name(resp.type)), typ,
                                        errno.EBADMSG)
        return resp

    def check(self):
        return self._request("CHECK")

    def dump(self):
        return self._request("DUMP")

    def pre_dump(self):
        return self._request("PRE_DUMP")

    def restore(self):
        return self._request("RESTORE")

    def page_server_chld(self):
        return self._request("PAGE_SERVER_CHLD")

    def version(self):
        return self._request("VERSION")

    def feature_check(self, **features):
        feat = pbtypes.new("criu_features")
        for k, v in features.items():
            setattr(feat, k, v)
        return self._request("FEATURE_CHECK", features=feat)

    def wait_pid(self, pid):
        return self._request("WAIT_PID", pid=pid)
