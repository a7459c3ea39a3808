//! WASI errno values and the error type every host function returns.
//!
//! A host function ends in one of three ways besides success: an [`Errno`] the guest sees as
//! the return value, a [`Trap`] that stops the guest (a bad pointer, an interrupted instance),
//! or an [`Exit`] requested by `proc_exit`.

use std::fmt;
use std::io;

macro_rules! errnos {
    ($($name:ident = $num:literal, $text:literal;)*) => {
        /// A WASI preview 1 errno (`$errno` in the witx), as the guest sees it, and WasmEdge's
        /// eleven resolver errnos 77..87.
        #[repr(u16)]
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        #[allow(missing_docs)]
        pub enum Errno { $($name = $num,)* }

        impl Errno {
            /// The lower-case WASI name, e.g. `"acces"` for EACCES; used in traces.
            pub fn name(self) -> &'static str {
                match self { $(Errno::$name => $text,)* }
            }

            /// The errno with the given WASI number, if there is one.
            pub fn from_raw(raw: u16) -> Option<Errno> {
                match raw { $($num => Some(Errno::$name),)* _ => None }
            }
        }
    };
}

errnos! {
    Success = 0, "success"; TooBig = 1, "2big"; Acces = 2, "acces"; AddrInUse = 3, "addrinuse";
    AddrNotAvail = 4, "addrnotavail"; AfNoSupport = 5, "afnosupport"; Again = 6, "again";
    Already = 7, "already"; Badf = 8, "badf"; BadMsg = 9, "badmsg"; Busy = 10, "busy";
    Canceled = 11, "canceled"; Child = 12, "child"; ConnAborted = 13, "connaborted";
    ConnRefused = 14, "connrefused"; ConnReset = 15, "connreset"; Deadlk = 16, "deadlk";
    DestAddrReq = 17, "destaddrreq"; Dom = 18, "dom"; Dquot = 19, "dquot"; Exist = 20, "exist";
    Fault = 21, "fault"; Fbig = 22, "fbig"; HostUnreach = 23, "hostunreach"; Idrm = 24, "idrm";
    Ilseq = 25, "ilseq"; InProgress = 26, "inprogress"; Intr = 27, "intr"; Inval = 28, "inval";
    Io = 29, "io"; IsConn = 30, "isconn"; IsDir = 31, "isdir"; Loop = 32, "loop";
    Mfile = 33, "mfile"; Mlink = 34, "mlink"; MsgSize = 35, "msgsize"; Multihop = 36, "multihop";
    NameTooLong = 37, "nametoolong"; NetDown = 38, "netdown"; NetReset = 39, "netreset";
    NetUnreach = 40, "netunreach"; Nfile = 41, "nfile"; NoBufs = 42, "nobufs"; NoDev = 43, "nodev";
    NoEnt = 44, "noent"; NoExec = 45, "noexec"; NoLck = 46, "nolck"; NoLink = 47, "nolink";
    NoMem = 48, "nomem"; NoMsg = 49, "nomsg"; NoProtoOpt = 50, "noprotoopt"; NoSpc = 51, "nospc";
    NoSys = 52, "nosys"; NotConn = 53, "notconn"; NotDir = 54, "notdir"; NotEmpty = 55, "notempty";
    NotRecoverable = 56, "notrecoverable"; NotSock = 57, "notsock"; NotSup = 58, "notsup";
    NoTty = 59, "notty"; Nxio = 60, "nxio"; Overflow = 61, "overflow"; OwnerDead = 62, "ownerdead";
    Perm = 63, "perm"; Pipe = 64, "pipe"; Proto = 65, "proto";
    ProtoNoSupport = 66, "protonosupport"; ProtoType = 67, "prototype"; Range = 68, "range";
    Rofs = 69, "rofs"; Spipe = 70, "spipe"; Srch = 71, "srch"; Stale = 72, "stale";
    TimedOut = 73, "timedout"; TxtBsy = 74, "txtbsy"; Xdev = 75, "xdev";
    NotCapable = 76, "notcapable";
    // WasmEdge's own errnos for `sock_getaddrinfo` failures (docs/wasmedge-socket-abi.md, its section 10.1);
    // no other ABI returns them.
    AiAddrFamily = 77, "aiaddrfamily"; AiAgain = 78, "aiagain"; AiBadFlag = 79, "aibadflag";
    AiFail = 80, "aifail"; AiFamily = 81, "aifamily"; AiMemory = 82, "aimemory";
    AiNoData = 83, "ainodata"; AiNoName = 84, "ainoname"; AiService = 85, "aiservice";
    AiSockType = 86, "aisocktype"; AiSystem = 87, "aisystem";
}

impl Errno {
    /// Maps a host (Linux) errno to the WASI errno of the same name; ENOSYS for unknown ones,
    /// as WAMR does.
    pub fn from_host(raw: i32) -> Errno {
        use Errno::*;
        match raw {
            0 => Success,
            libc::E2BIG => TooBig,
            libc::EACCES => Acces,
            libc::EADDRINUSE => AddrInUse,
            libc::EADDRNOTAVAIL => AddrNotAvail,
            libc::EAFNOSUPPORT => AfNoSupport,
            libc::EAGAIN => Again,
            libc::EALREADY => Already,
            libc::EBADF => Badf,
            libc::EBADMSG => BadMsg,
            libc::EBUSY => Busy,
            libc::ECANCELED => Canceled,
            libc::ECHILD => Child,
            libc::ECONNABORTED => ConnAborted,
            libc::ECONNREFUSED => ConnRefused,
            libc::ECONNRESET => ConnReset,
            libc::EDEADLK => Deadlk,
            libc::EDESTADDRREQ => DestAddrReq,
            libc::EDOM => Dom,
            libc::EDQUOT => Dquot,
            libc::EEXIST => Exist,
            libc::EFAULT => Fault,
            libc::EFBIG => Fbig,
            libc::EHOSTUNREACH | libc::EHOSTDOWN => HostUnreach,
            libc::EIDRM => Idrm,
            libc::EILSEQ => Ilseq,
            libc::EINPROGRESS => InProgress,
            libc::EINTR => Intr,
            libc::EINVAL => Inval,
            libc::EIO => Io,
            libc::EISCONN => IsConn,
            libc::EISDIR => IsDir,
            libc::ELOOP => Loop,
            libc::EMFILE => Mfile,
            libc::EMLINK => Mlink,
            libc::EMSGSIZE => MsgSize,
            libc::EMULTIHOP => Multihop,
            libc::ENAMETOOLONG => NameTooLong,
            libc::ENETDOWN => NetDown,
            libc::ENETRESET => NetReset,
            libc::ENETUNREACH => NetUnreach,
            libc::ENFILE => Nfile,
            libc::ENOBUFS => NoBufs,
            libc::ENODEV => NoDev,
            libc::ENOENT => NoEnt,
            libc::ENOEXEC => NoExec,
            libc::ENOLCK => NoLck,
            libc::ENOLINK => NoLink,
            libc::ENOMEM => NoMem,
            libc::ENOMSG => NoMsg,
            libc::ENOPROTOOPT => NoProtoOpt,
            libc::ENOSPC => NoSpc,
            libc::ENOSYS => NoSys,
            libc::ENOTCONN => NotConn,
            libc::ENOTDIR => NotDir,
            libc::ENOTEMPTY => NotEmpty,
            libc::ENOTRECOVERABLE => NotRecoverable,
            libc::ENOTSOCK => NotSock,
            libc::EOPNOTSUPP => NotSup,
            libc::ENOTTY => NoTty,
            libc::ENXIO => Nxio,
            libc::EOVERFLOW => Overflow,
            libc::EOWNERDEAD => OwnerDead,
            libc::EPERM => Perm,
            libc::EPIPE => Pipe,
            libc::EPROTO => Proto,
            libc::EPROTONOSUPPORT => ProtoNoSupport,
            libc::EPROTOTYPE => ProtoType,
            libc::ERANGE => Range,
            libc::EROFS => Rofs,
            libc::ESPIPE => Spipe,
            libc::ESRCH => Srch,
            libc::ESTALE => Stale,
            libc::ETIMEDOUT => TimedOut,
            libc::ETXTBSY => TxtBsy,
            libc::EXDEV => Xdev,
            _ => NoSys,
        }
    }

    /// The errno's number as the guest sees it.
    pub fn raw(self) -> u16 {
        self as u16
    }
}

impl From<io::Error> for Errno {
    fn from(err: io::Error) -> Errno {
        if let Some(raw) = err.raw_os_error() {
            return Errno::from_host(raw);
        }
        // Errors made by std or cap-std without an OS code.
        match err.kind() {
            io::ErrorKind::PermissionDenied => Errno::Acces,
            io::ErrorKind::NotFound => Errno::NoEnt,
            io::ErrorKind::AlreadyExists => Errno::Exist,
            io::ErrorKind::InvalidInput => Errno::Inval,
            io::ErrorKind::WouldBlock => Errno::Again,
            io::ErrorKind::TimedOut => Errno::TimedOut,
            io::ErrorKind::Interrupted => Errno::Intr,
            io::ErrorKind::Unsupported => Errno::NotSup,
            io::ErrorKind::OutOfMemory => Errno::NoMem,
            io::ErrorKind::NotADirectory => Errno::NotDir,
            io::ErrorKind::IsADirectory => Errno::IsDir,
            io::ErrorKind::DirectoryNotEmpty => Errno::NotEmpty,
            _ => Errno::Io,
        }
    }
}

impl From<rustix::io::Errno> for Errno {
    fn from(err: rustix::io::Errno) -> Errno {
        Errno::from_host(err.raw_os_error())
    }
}

impl fmt::Display for Errno {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.name(), self.raw())
    }
}

impl std::error::Error for Errno {}

/// A condition that stops the guest: the message says what the guest did wrong.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Trap(pub String);

impl fmt::Display for Trap {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Trap {}

/// The guest called `proc_exit` with this status. Carried as an error so that it unwinds the
/// guest's stack; embedders downcast to it to learn the exit code.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Exit(pub i32);

impl fmt::Display for Exit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "guest exited with status {}", self.0)
    }
}

impl std::error::Error for Exit {}

/// How a host function failed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Error {
    /// Returned to the guest as the function's result.
    Errno(Errno),
    /// Stops the guest.
    Trap(Trap),
    /// `proc_exit`: stops the guest with an exit status.
    Exit(Exit),
}

/// The result of a host function: `Ok` is WASI's `success`.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl From<Errno> for Error {
    fn from(e: Errno) -> Error {
        Error::Errno(e)
    }
}

impl From<Trap> for Error {
    fn from(t: Trap) -> Error {
        Error::Trap(t)
    }
}

impl From<io::Error> for Error {
    fn from(e: io::Error) -> Error {
        Error::Errno(e.into())
    }
}

impl From<rustix::io::Errno> for Error {
    fn from(e: rustix::io::Errno) -> Error {
        Error::Errno(e.into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_match_the_witx_and_wamr_spec() {
        assert_eq!(Errno::Acces.raw(), 2);
        assert_eq!(Errno::Again.raw(), 6);
        assert_eq!(Errno::Inval.raw(), 28);
        assert_eq!(Errno::NoSys.raw(), 52);
        assert_eq!(Errno::NotSup.raw(), 58);
        assert_eq!(Errno::Pipe.raw(), 64);
        assert_eq!(Errno::NotCapable.raw(), 76);
        for raw in 0..=87 {
            assert_eq!(Errno::from_raw(raw).unwrap().raw(), raw);
        }
        assert_eq!(Errno::AiAddrFamily.raw(), 77);
        assert_eq!(Errno::AiSystem.raw(), 87);
        assert_eq!(Errno::from_raw(88), None);
    }

    #[test]
    fn host_errnos_map_by_name() {
        assert_eq!(Errno::from_host(libc::EWOULDBLOCK), Errno::Again);
        assert_eq!(Errno::from_host(libc::EOPNOTSUPP), Errno::NotSup);
        assert_eq!(Errno::from_host(libc::ECONNRESET), Errno::ConnReset);
        assert_eq!(Errno::from_host(4095), Errno::NoSys);
        let e: Errno = io::Error::from(io::ErrorKind::PermissionDenied).into();
        assert_eq!(e, Errno::Acces);
    }
}
