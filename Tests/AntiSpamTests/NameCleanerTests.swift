import Testing
@testable import AntiSpam

@Suite struct NameCleanerTests {
    @Test(arguments: [
        ("jOHN doe", "John Doe"),
        ("  JOHN   DOE  ", "John Doe"),
        ("José da Silva", "José da Silva"),
        ("maria DOS santos", "Maria dos Santos"),
        ("Nguyễn Văn An", "Nguyễn Văn"),
        ("ahmad bin ismail", "Ahmad bin Ismail"),
        ("Siti Nur Aisyah binti Ahmad", "Siti Nur"),
        ("John 😀🔥 Doe!!!", "John Doe"),
        ("Jo3hn123", "John"),
        ("o'brien", "O'Brien"),
        ("jean-luc picard", "Jean-Luc Picard"),
        ("McDonald", "McDonald"),
        ("CS", "CS"),
        ("CS Team", "CS Team"),
        ("Kumar a/l Raju", "Kumar Raju"),
        ("de souza", "De Souza"),
        ("Maximiliano Bartholomewsonnsons Ray", "Maximiliano"),
        ("Maximiliano Bartholomew Ray", "Maximiliano Bartholomew"),
    ])
    func cleans(raw: String, expected: String) {
        #expect(NameCleaner.clean(raw) == expected)
    }

    @Test(arguments: [nil, "", "   ", "J", "12345", "+60 12-345 6789", "😀😀", "null", "N/A", "-", "..."] as [String?])
    func rejectsUnusable(raw: String?) {
        #expect(NameCleaner.clean(raw) == nil)
    }

    @Test func lengthIsBounded() {
        let long = String(repeating: "a", count: 80)
        #expect(NameCleaner.clean(long)?.count == NameCleaner.maxLength)
    }

    @Test func idempotent() {
        for raw in ["jOHN doe", "José da Silva", "Ahmad bin Ismail", "CS"] {
            let once = NameCleaner.clean(raw)
            #expect(NameCleaner.clean(once) == once)
        }
    }
}
