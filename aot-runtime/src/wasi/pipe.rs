//! The guest's standard streams: where its input comes from ([`InputSource`]: the host's stdin,
//! an in-memory [`MemoryInputPipe`], or nothing) and where its output goes ([`OutputSink`]: the
//! host's stdout or stderr, an in-memory [`MemoryOutputPipe`], or nowhere).
//!
//! The pipes are cheap handles to shared buffers (`Arc<Mutex<..>>`): the embedder keeps a clone,
//! gives another to the [`WasiCtxBuilder`](super::WasiCtxBuilder), and reads what the guest
//! wrote after the call. Sources and sinks are used the same way by preview 1 (`fd_read`,
//! `fd_write` on descriptors 0 to 2) and WASI 0.2 (`wasi:cli/stdin` and friends), through
//! `read`, `write` and `flush`; every operation is blocking and completes at once.

use std::collections::VecDeque;
use std::io::{self, IsTerminal, Read, Write};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::vec;
use std::vec::Vec;

/// What a read from an input source produced.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StdinData {
    /// Some bytes (at least one unless zero bytes were asked for).
    Data(Vec<u8>),
    /// The end of the stream: no more bytes will come.
    Eof,
}

/// An in-memory input stream: the bytes given at creation, read once, then end of stream.
/// Clones share the same position.
#[derive(Clone, Debug)]
pub struct MemoryInputPipe {
    buffer: Arc<Mutex<VecDeque<u8>>>,
}

impl MemoryInputPipe {
    /// A pipe that will yield `bytes` then end.
    pub fn new(bytes: impl Into<Vec<u8>>) -> Self {
        Self {
            buffer: Arc::new(Mutex::new(VecDeque::from(bytes.into()))),
        }
    }

    /// Takes up to `max` bytes.
    pub fn read(&self, max: usize) -> StdinData {
        let mut buffer = lock(&self.buffer);
        if buffer.is_empty() && max > 0 {
            return StdinData::Eof;
        }
        let n = max.min(buffer.len());
        StdinData::Data(buffer.drain(..n).collect())
    }

    /// The number of bytes not read yet.
    pub fn remaining(&self) -> usize {
        lock(&self.buffer).len()
    }
}

/// An in-memory output stream holding at most `capacity` bytes. Clones share the same buffer,
/// so the embedder can read what the guest wrote ([`MemoryOutputPipe::contents`]).
#[derive(Clone, Debug)]
pub struct MemoryOutputPipe {
    capacity: usize,
    buffer: Arc<Mutex<Vec<u8>>>,
}

impl MemoryOutputPipe {
    /// An empty pipe that accepts up to `capacity` bytes in total; a write that would exceed it
    /// fails without writing anything (the guest sees an out-of-space error).
    pub fn new(capacity: usize) -> Self {
        Self {
            capacity,
            buffer: Arc::new(Mutex::new(Vec::new())),
        }
    }

    /// A copy of everything written so far.
    pub fn contents(&self) -> Vec<u8> {
        lock(&self.buffer).clone()
    }

    /// The bytes written, if this is the last handle to the pipe (the context holding the other
    /// clones was dropped); otherwise the pipe itself back.
    ///
    /// # Errors
    /// `Err(self)` when another clone still exists.
    pub fn try_into_inner(self) -> Result<Vec<u8>, Self> {
        let capacity = self.capacity;
        Arc::try_unwrap(self.buffer)
            .map(|m| m.into_inner().unwrap_or_else(PoisonError::into_inner))
            .map_err(|buffer| Self { capacity, buffer })
    }

    /// Appends `bytes`, or fails with [`io::ErrorKind::StorageFull`] (writing nothing) if the
    /// capacity would be exceeded.
    ///
    /// # Errors
    /// As above.
    pub fn write(&self, bytes: &[u8]) -> io::Result<()> {
        let mut buffer = lock(&self.buffer);
        if bytes.len() > self.capacity - buffer.len() {
            return Err(io::Error::new(
                io::ErrorKind::StorageFull,
                "write beyond the capacity of a memory output pipe",
            ));
        }
        buffer.extend_from_slice(bytes);
        Ok(())
    }

    /// How many more bytes the pipe accepts.
    pub fn remaining_capacity(&self) -> usize {
        self.capacity - lock(&self.buffer).len()
    }
}

/// Where a guest's standard input comes from.
#[derive(Clone, Debug, Default)]
pub enum InputSource {
    /// No input: every read is the end of the stream (the default).
    #[default]
    Empty,
    /// The host process's standard input.
    Inherit,
    /// An in-memory pipe.
    Pipe(MemoryInputPipe),
}

impl From<MemoryInputPipe> for InputSource {
    fn from(pipe: MemoryInputPipe) -> Self {
        InputSource::Pipe(pipe)
    }
}

impl InputSource {
    /// Reads up to `max` bytes, blocking until at least one is available or the stream ends.
    ///
    /// # Errors
    /// The host's I/O error when reading its standard input fails.
    pub fn read(&self, max: usize) -> io::Result<StdinData> {
        match self {
            InputSource::Empty if max > 0 => Ok(StdinData::Eof),
            InputSource::Empty => Ok(StdinData::Data(Vec::new())),
            InputSource::Pipe(pipe) => Ok(pipe.read(max)),
            InputSource::Inherit => {
                if max == 0 {
                    return Ok(StdinData::Data(Vec::new()));
                }
                // Never allocate more than a pipe's worth for one read, whatever the guest asks.
                let mut buf = vec![0; max.min(64 * 1024)];
                loop {
                    match io::stdin().lock().read(&mut buf) {
                        Ok(0) => return Ok(StdinData::Eof),
                        Ok(n) => {
                            buf.truncate(n);
                            return Ok(StdinData::Data(buf));
                        }
                        Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                        Err(e) => return Err(e),
                    }
                }
            }
        }
    }

    /// Whether the source is a terminal (only ever true for the inherited stdin).
    pub fn is_terminal(&self) -> bool {
        matches!(self, InputSource::Inherit) && io::stdin().is_terminal()
    }
}

/// Where a guest's standard output or error goes.
#[derive(Clone, Debug, Default)]
pub enum OutputSink {
    /// Nowhere: writes succeed and are dropped (the default).
    #[default]
    Discard,
    /// The host process's standard output.
    Stdout,
    /// The host process's standard error.
    Stderr,
    /// An in-memory pipe.
    Pipe(MemoryOutputPipe),
}

impl From<MemoryOutputPipe> for OutputSink {
    fn from(pipe: MemoryOutputPipe) -> Self {
        OutputSink::Pipe(pipe)
    }
}

impl OutputSink {
    /// Writes all of `bytes`. The host's streams are flushed at once so that the guest's output
    /// interleaves with the host's own in order (the guest's libc does its own buffering).
    ///
    /// # Errors
    /// The host's I/O error, or [`io::ErrorKind::StorageFull`] from a full pipe.
    pub fn write(&self, bytes: &[u8]) -> io::Result<()> {
        match self {
            OutputSink::Discard => Ok(()),
            OutputSink::Stdout => {
                let mut out = io::stdout().lock();
                out.write_all(bytes)?;
                out.flush()
            }
            OutputSink::Stderr => io::stderr().lock().write_all(bytes),
            OutputSink::Pipe(pipe) => pipe.write(bytes),
        }
    }

    /// Flushes the host's stream (pipes and discard have nothing to flush).
    ///
    /// # Errors
    /// The host's I/O error.
    pub fn flush(&self) -> io::Result<()> {
        match self {
            OutputSink::Stdout => io::stdout().lock().flush(),
            OutputSink::Stderr => io::stderr().lock().flush(),
            OutputSink::Discard | OutputSink::Pipe(_) => Ok(()),
        }
    }

    /// Whether the sink is a terminal (only ever true for an inherited stream).
    pub fn is_terminal(&self) -> bool {
        match self {
            OutputSink::Stdout => io::stdout().is_terminal(),
            OutputSink::Stderr => io::stderr().is_terminal(),
            OutputSink::Discard | OutputSink::Pipe(_) => false,
        }
    }
}

/// Locks `m`, ignoring poisoning: a panic while holding the lock cannot leave a byte buffer in
/// an invalid state.
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn input_pipe_reads_then_ends() {
        let pipe = MemoryInputPipe::new(&b"hello"[..]);
        let source = InputSource::from(pipe.clone());
        assert_eq!(source.read(2).unwrap(), StdinData::Data(b"he".to_vec()));
        assert_eq!(pipe.remaining(), 3);
        assert_eq!(source.read(0).unwrap(), StdinData::Data(Vec::new()));
        assert_eq!(source.read(100).unwrap(), StdinData::Data(b"llo".to_vec()));
        assert_eq!(source.read(100).unwrap(), StdinData::Eof);
        assert_eq!(InputSource::Empty.read(1).unwrap(), StdinData::Eof);
        assert!(!source.is_terminal());
    }

    #[test]
    fn output_pipe_shares_and_limits() {
        let pipe = MemoryOutputPipe::new(8);
        let sink = OutputSink::from(pipe.clone());
        sink.write(b"abc").unwrap();
        sink.flush().unwrap();
        assert_eq!(pipe.contents(), b"abc");
        assert_eq!(pipe.remaining_capacity(), 5);
        let err = sink.write(b"defghi").unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::StorageFull);
        assert_eq!(pipe.contents(), b"abc", "a refused write writes nothing");
        sink.write(b"defgh").unwrap();
        let pipe = pipe.try_into_inner().unwrap_err();
        drop(sink);
        assert_eq!(pipe.try_into_inner().unwrap(), b"abcdefgh");
        OutputSink::Discard.write(b"dropped").unwrap();
        assert!(!OutputSink::Discard.is_terminal());
    }
}
