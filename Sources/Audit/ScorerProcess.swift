import Foundation

/// A model the lab cannot read, behind a command that scores texts (`audit --scorer "COMMAND"`). The protocol, one
/// JSON object a line: the command first prints `{"labels": [...]}`; then for each request line `{"texts": [...]}`
/// the lab writes to its standard input it prints one reply line `{"probabilities": [[...], ...]}`, a row per text
/// in the request's order, each summing to 1. Every reply is checked (row count, row length, finite values in
/// [0, 1], sums within 10⁻³ of 1); a command that exits, stays silent past the timeout or answers anything else is
/// stopped and reported, naming the line it printed.
public final class ScorerProcess {
  public let command: String
  public private(set) var labels: [String]
  /// Texts scored so far (one query = one text).
  public private(set) var queries = 0
  let timeout: TimeInterval
  /// The shell's process id; it leads a process group of its own, so stopping it stops whatever it started.
  private let pid: pid_t
  private var exitStatus: Int32?
  private let input: FileHandle
  private let lines: LineReader
  /// Lines the command has printed, for naming the bad one.
  private var linesRead = 0

  /// Starts `command` (through /bin/sh -c) and reads its labels line, waiting at most `timeout` seconds for any line.
  public init(command: String, timeout: TimeInterval = 60) throws(AuditError) {
    signal(SIGPIPE, SIG_IGN)  // a scorer that exits must give a write error, not kill the lab
    self.command = command
    self.timeout = timeout
    // Both pipes close on exec, and scorers start one at a time, so that a scorer started by another thread cannot
    // inherit this one's pipes (a stray copy of the write end would hide this scorer's exit).
    var toScorer: [Int32] = [0, 0], fromScorer: [Int32] = [0, 0]
    pid = try { () throws(AuditError) -> pid_t in
      Self.starting.lock()
      defer { Self.starting.unlock() }
      guard pipe(&toScorer) == 0 else { throw AuditError("--scorer: cannot make a pipe: \(String(cString: strerror(errno)))") }
      guard pipe(&fromScorer) == 0 else {
        close(toScorer[0])
        close(toScorer[1])
        throw AuditError("--scorer: cannot make a pipe: \(String(cString: strerror(errno)))")
      }
      for descriptor in toScorer + fromScorer { _ = fcntl(descriptor, F_SETFD, FD_CLOEXEC) }
      guard let spawned = Self.spawn(command, stdin: toScorer[0], stdout: fromScorer[1]) else {
        close(toScorer[1])
        close(fromScorer[0])
        throw AuditError("--scorer: cannot start '\(command)': \(String(cString: strerror(errno)))")
      }
      return spawned
    }()
    input = FileHandle(fileDescriptor: toScorer[1], closeOnDealloc: true)
    lines = LineReader(FileHandle(fileDescriptor: fromScorer[0], closeOnDealloc: true))
    labels = []
    let first = try nextObject(expecting: "labels")
    guard let names = first["labels"] as? [String], names.count >= 2, Set(names).count == names.count else {
      stop()
      throw AuditError("--scorer line 1: \"labels\" must be a list of two or more distinct strings")
    }
    labels = names
  }

  deinit { stop() }

  private static let starting = NSLock()

  /// Stops the command: closes its input (a well-behaved scorer then exits), and ends its process group if it has
  /// not exited a second later (SIGTERM, then SIGKILL after another second).
  public func stop() {
    try? input.close()
    if exited(within: 1) { return }
    kill(-pid, SIGTERM)
    if exited(within: 1) { return }
    kill(-pid, SIGKILL)
    _ = reap(blocking: true)
  }

  private func exited(within seconds: TimeInterval) -> Bool {
    let deadline = Date().addingTimeInterval(seconds)
    repeat {
      if reap(blocking: false) { return true }
      usleep(10_000)
    } while Date() < deadline
    return false
  }

  /// Collects the shell's exit status; false while it runs (non-blocking).
  private func reap(blocking: Bool) -> Bool {
    guard exitStatus == nil else { return true }
    var status: Int32 = 0
    let result = waitpid(pid, &status, blocking ? 0 : WNOHANG)
    guard result == pid else { return false }
    exitStatus = (status & 0x7F) == 0 ? (status >> 8) & 0xFF : 128 + (status & 0x7F)
    return true
  }

  /// `/bin/sh -c command` in a new process group, reading `stdin` and writing `stdout` (both closed here after).
  /// nil when it cannot start (errno says why).
  private static func spawn(_ command: String, stdin: Int32, stdout: Int32) -> pid_t? {
    var attributes = posix_spawnattr_t()
    posix_spawnattr_init(&attributes)
    defer { posix_spawnattr_destroy(&attributes) }
    posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETPGROUP))
    posix_spawnattr_setpgroup(&attributes, 0)
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_adddup2(&actions, stdin, 0)
    posix_spawn_file_actions_adddup2(&actions, stdout, 1)
    let arguments: [UnsafeMutablePointer<CChar>?] = ["/bin/sh", "-c", command].map { (text: String) in strdup(text) }
    defer { arguments.forEach { free($0) } }
    var pid: pid_t = 0
    let result = posix_spawn(&pid, "/bin/sh", &actions, &attributes, arguments + [nil], environ)
    close(stdin)
    close(stdout)
    guard result == 0 else {
      errno = result
      return nil
    }
    return pid
  }

  /// The probability rows the command gives `texts`, sent in requests of at most `batchSize` texts.
  public func probabilities(_ texts: [String], batchSize: Int = 512) throws(AuditError) -> [[Double]] {
    var rows: [[Double]] = []
    rows.reserveCapacity(texts.count)
    var start = 0
    while start < texts.count {
      let batch = Array(texts[start..<min(texts.count, start + batchSize)])
      rows += try request(batch)
      start += batch.count
    }
    return rows
  }

  func request(_ texts: [String]) throws(AuditError) -> [[Double]] {
    let line: Data
    do { line = try JSONSerialization.data(withJSONObject: ["texts": texts]) + Data("\n".utf8) } catch {
      throw AuditError("--scorer: cannot encode a request: \(error)")
    }
    do { try input.write(contentsOf: line) } catch {
      stop()
      throw AuditError("--scorer: '\(command)' stopped reading its input (\(error)); it has exited or closed standard input")
    }
    let reply = try nextObject(expecting: "probabilities")
    let where_ = "--scorer line \(linesRead)"
    guard let rows = reply["probabilities"] as? [[Any]] else { stop(); throw AuditError("\(where_): \"probabilities\" must be a list of rows") }
    guard rows.count == texts.count else { stop(); throw AuditError("\(where_): \(rows.count) rows for \(texts.count) texts") }
    var parsed: [[Double]] = []
    parsed.reserveCapacity(rows.count)
    for (index, row) in rows.enumerated() {
      let values = row.compactMap { ($0 as? NSNumber).map(\.doubleValue) }
      guard values.count == row.count, values.count == labels.count else {
        stop()
        throw AuditError("\(where_): row \(index + 1) has \(row.count) entries; the scorer declared \(labels.count) labels")
      }
      guard values.allSatisfy({ $0.isFinite && $0 >= 0 && $0 <= 1 }), abs(values.reduce(0, +) - 1) <= 1e-3 else {
        stop()
        throw AuditError("\(where_): row \(index + 1) is not a probability distribution: \(values)")
      }
      parsed.append(values)
    }
    queries += texts.count
    return parsed
  }

  /// The next line as a JSON object holding `key`, or a clear error.
  private func nextObject(expecting key: String) throws(AuditError) -> [String: Any] {
    let line: String
    switch lines.next(timeout: timeout) {
    case .line(let text): line = text
    case .end:
      stop()
      _ = reap(blocking: true)
      throw AuditError("--scorer: '\(command)' exited (status \(exitStatus ?? -1)) before printing its \"\(key)\" line")
    case .timedOut:
      stop()
      throw AuditError("--scorer: '\(command)' printed no \"\(key)\" line within \(Int(timeout)) s; stopped")
    }
    linesRead += 1
    guard let object = (try? JSONSerialization.jsonObject(with: Data(line.utf8))) as? [String: Any], object[key] != nil else {
      stop()
      throw AuditError("--scorer line \(linesRead): expected a JSON object with \"\(key)\"; got '\(line.prefix(200))'")
    }
    return object
  }
}

/// Lines of a pipe, read on a thread of their own so that a wait can time out.
final class LineReader: @unchecked Sendable {
  enum Next { case line(String), end, timedOut }
  private let lock = NSCondition()
  private var pending: [String] = []
  private var finished = false

  init(_ handle: FileHandle) {
    let thread = Thread { [self] in
      var buffer = Data()
      while true {
        let chunk = handle.availableData
        lock.lock()
        if chunk.isEmpty {
          if !buffer.isEmpty { pending.append(String(decoding: buffer, as: UTF8.self)) }
          finished = true
          lock.broadcast()
          lock.unlock()
          return
        }
        buffer.append(chunk)
        while let newline = buffer.firstIndex(of: 0x0A) {
          pending.append(String(decoding: buffer[buffer.startIndex..<newline], as: UTF8.self))
          buffer.removeSubrange(buffer.startIndex...newline)
        }
        lock.broadcast()
        lock.unlock()
      }
    }
    thread.start()
  }

  func next(timeout: TimeInterval) -> Next {
    let deadline = Date().addingTimeInterval(timeout)
    lock.lock()
    defer { lock.unlock() }
    while pending.isEmpty && !finished {
      if !lock.wait(until: deadline) { return pending.isEmpty ? .timedOut : .line(pending.removeFirst()) }
    }
    return pending.isEmpty ? .end : .line(pending.removeFirst())
  }
}
