import BallotCore
import FuzzDriver
import BallotWire

/// Feeds arbitrary bytes to the frame decoder three ways and checks they agree:
///
/// - `FrameDecoder.decode(_:)` on the whole input as one frame: if it decodes, re-encoding it
///   gives back exactly the input (every value has one encoding);
/// - `FrameDecoder.decodeFrame(in:limits:)` frame after frame over the whole input;
/// - a streaming `FrameDecoder` fed the input in chunks whose sizes come from the input itself.
///
/// The last two must produce the same frames and stop with the same error, whatever the chunking,
/// and each frame must re-encode to exactly the bytes it was decoded from. Both the default frame
/// limit and the smallest permitted one are used, so `oversized` paths run too.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzFrameDecoder(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = Array(fuzzInput(data, size))
    if let frame = try? FrameDecoder.decode(bytes) {
        // Re-encoded in the version its header names (connection-opening frames are always 1).
        precondition(FrameEncoder.encode(frame, version: bytes[FrameLayout.versionOffset]) == bytes,
                     "a decoded frame re-encodes to other bytes")
    }
    for limits in [WireLimits.default, try! WireLimits(maxFrameLength: WireLimits.minimumMaxFrameLength)] {
        let whole = decodeInPlace(bytes, limits: limits)
        let streamed = decodeStreaming(bytes, limits: limits)
        precondition(whole.frames == streamed.frames, "streaming and in-place decoding disagree on frames")
        precondition(whole.error == streamed.error, "streaming and in-place decoding disagree on the error")
    }
    return 0
}

/// Frames decoded one after another from the whole buffer, and the error that stopped it, if any.
func decodeInPlace(_ bytes: [UInt8], limits: WireLimits) -> (frames: [PeerFrame], error: WireError?) {
    var frames: [PeerFrame] = []
    var offset = 0
    // Every frame takes at least 6 bytes, so this bound is never what ends the loop.
    for _ in 0...(bytes.count / FrameLayout.headerLength) {
        do throws(WireError) {
            let decoded = try bytes.withUnsafeBytes { raw in
                Result { () throws(WireError) in
                    try FrameDecoder.decodeFrame(in: UnsafeRawBufferPointer(rebasing: raw[offset...]), limits: limits)
                }
            }.get()
            guard let decoded else { break }
            precondition(
                FrameEncoder.encode(decoded.frame, version: bytes[offset + FrameLayout.versionOffset])
                    == Array(bytes[offset..<(offset + decoded.byteCount)]),
                "a decoded frame re-encodes to other bytes")
            frames.append(decoded.frame)
            offset += decoded.byteCount
        } catch {
            return (frames, error)
        }
    }
    return (frames, nil)
}

/// The same through a streaming decoder, appended in chunks of 1 to 64 bytes chosen by the input.
func decodeStreaming(_ bytes: [UInt8], limits: WireLimits) -> (frames: [PeerFrame], error: WireError?) {
    var decoder = FrameDecoder(limits: limits)
    var frames: [PeerFrame] = []
    var offset = 0
    var chunk = 0
    while offset < bytes.count {
        let size = Int(bytes[chunk % bytes.count] % 64) + 1
        chunk += 1
        let end = min(offset + size, bytes.count)
        decoder.append(bytes[offset..<end])
        offset = end
        for _ in 0...(end / FrameLayout.headerLength) {
            do throws(WireError) {
                guard let frame = try decoder.nextFrame() else { break }
                frames.append(frame)
            } catch {
                // Errors are final: the decoder must keep throwing the same one.
                decoder.append(bytes[..<min(bytes.count, 8)])
                precondition((try? decoder.nextFrame()) == nil && decoder.error == error, "a decoder error was not final")
                return (frames, error)
            }
        }
    }
    return (frames, nil)
}

/// The executable's entry point under SwiftPM's name for it; see `runLibFuzzer`.
@_cdecl("fuzz_frame_decoder_main")
public func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt {
    runLibFuzzer(argc, argv, fuzzFrameDecoder)
}
