//! Lists the directory argv[1] with std::fs::read_dir (which skips "." and ".."), sorted by
//! name, one "type name" line per entry, in the format of tests/programs/c/p1_readdir.c.

fn main() {
    let dir = std::env::args().nth(1).expect("usage: p1_readdir DIR");
    let mut entries: Vec<(char, String)> = Vec::new();
    for entry in std::fs::read_dir(&dir).expect("read_dir") {
        let entry = entry.expect("read_dir entry");
        let file_type = entry.file_type().expect("file_type");
        let kind = if file_type.is_dir() {
            'd'
        } else if file_type.is_file() {
            'f'
        } else if file_type.is_symlink() {
            'l'
        } else {
            '?'
        };
        entries.push((kind, entry.file_name().to_string_lossy().into_owned()));
    }
    entries.sort_by(|a, b| a.1.cmp(&b.1));
    println!("count={}", entries.len());
    for (kind, name) in &entries {
        println!("{kind} {name}");
    }
    let again = std::fs::read_dir(&dir).expect("read_dir").count();
    println!("after rewinddir count={again}");
}
