fn main() {
    println!("kubesched");
}
