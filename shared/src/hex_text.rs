//! Bytes as lower-case hex text, the form ids and keyed hashes are stored
//! in. `hex::encode` builds its string a `char` at a time; a send writes
//! 128 such digits (issue 11), so they are written into the bytes at once.

/// `bytes` as lower-case hex, two digits a byte.
pub fn lower(bytes: &[u8]) -> String {
    let mut digits = vec![0; bytes.len() * 2];
    hex::encode_to_slice(bytes, &mut digits).expect("two digits a byte");
    String::from_utf8(digits).expect("hex digits are ASCII")
}

#[cfg(test)]
mod tests {
    #[test]
    fn lower_hex_is_what_hex_encode_writes() {
        let bytes: Vec<u8> = (0..=255).collect();
        assert_eq!(super::lower(&bytes), hex::encode(&bytes));
        assert_eq!(super::lower(&[]), "");
    }
}
