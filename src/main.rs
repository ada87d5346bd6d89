fn main() {
    println!("woodpecker-dora: under construction");
}
