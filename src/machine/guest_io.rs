//! What a hosted program's standard input reads and where its standard error goes.
//!
//! The guest's standard input is vmlab's own (or bytes a test gives); its standard output is
//! the machine's output stream and its standard error a second stream, so that the two stay
//! apart as they do under Linux. Whether each of the three is a terminal is fixed when the
//! run starts (the kernel answers `ioctl(TCGETS)` from it).

use std::io::Read;

/// Where the guest's standard input comes from.
#[derive(Debug, Default)]
pub enum Input {
    /// Nothing: every read is at the end of input (the default).
    #[default]
    Empty,
    /// vmlab's own standard input.
    Stdin,
    /// These bytes, then the end of input.
    Bytes {
        /// The bytes.
        data: Vec<u8>,
        /// How many have been read.
        pos: usize,
    },
}

/// The guest's standard streams as the machine holds them.
#[derive(Debug, Default)]
pub struct GuestIo {
    /// Standard input's source.
    pub input: Input,
    /// Bytes written to standard error and not yet taken.
    pub errors: Vec<u8>,
    /// Whether standard input, output and error are terminals.
    pub terminal: [bool; 3],
    /// Standard input reached its end.
    eof: bool,
}

impl GuestIo {
    /// Reads standard input into `buf`: the bytes read, 0 at the end of input. From a
    /// terminal it returns what one host read gives (a line); from a file or pipe it fills
    /// `buf` or reaches the end, so that the guest sees the same reads whatever the host's
    /// pipe buffering did.
    pub fn read(&mut self, buf: &mut [u8]) -> usize {
        if buf.is_empty() || self.eof {
            return 0;
        }
        match &mut self.input {
            Input::Empty => 0,
            Input::Bytes { data, pos } => {
                let n = buf.len().min(data.len() - *pos);
                buf[..n].copy_from_slice(&data[*pos..*pos + n]);
                *pos += n;
                n
            }
            Input::Stdin => {
                let mut stdin = std::io::stdin().lock();
                let mut got = 0;
                while got < buf.len() {
                    match stdin.read(&mut buf[got..]) {
                        Ok(0) => {
                            self.eof = true;
                            break;
                        }
                        Ok(n) => {
                            got += n;
                            if self.terminal[0] {
                                break;
                            }
                        }
                        Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                        Err(_) => {
                            self.eof = true;
                            break;
                        }
                    }
                }
                got
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_are_read_in_order_then_the_end() {
        let mut io = GuestIo {
            input: Input::Bytes {
                data: b"hello\nworld\n".to_vec(),
                pos: 0,
            },
            ..GuestIo::default()
        };
        let mut buf = [0u8; 8];
        assert_eq!(io.read(&mut buf), 8);
        assert_eq!(&buf, b"hello\nwo");
        assert_eq!(io.read(&mut buf), 4);
        assert_eq!(&buf[..4], b"rld\n");
        assert_eq!(io.read(&mut buf), 0);
        assert_eq!(GuestIo::default().read(&mut buf), 0);
    }
}
