import Foundation
import Tokenization

struct JSONDecoderLite {
  func decode(_ json: String) throws -> TokenizerOptions {
    try JSONDecoder().decode(TokenizerOptions.self, from: Data(json.utf8))
  }
}
