// Reads a zip front to back with java.util.zip.ZipInputStream, the streaming reader that
// rejects STORED entries written with data descriptors, and checks every entry's CRC.
// Run as: java .ci/ZipStreamCheck.java bundle.zip
import java.io.BufferedInputStream;
import java.io.FileInputStream;
import java.util.zip.CRC32;
import java.util.zip.ZipEntry;
import java.util.zip.ZipInputStream;

public class ZipStreamCheck {
    public static void main(String[] args) throws Exception {
        int entries = 0;
        byte[] buf = new byte[64 * 1024];
        try (ZipInputStream in = new ZipInputStream(new BufferedInputStream(new FileInputStream(args[0])))) {
            ZipEntry e;
            while ((e = in.getNextEntry()) != null) {
                CRC32 crc = new CRC32();
                int n;
                while ((n = in.read(buf)) > 0) {
                    crc.update(buf, 0, n);
                }
                if (!e.isDirectory() && crc.getValue() != e.getCrc()) {
                    throw new IllegalStateException(e.getName() + ": CRC mismatch");
                }
                entries++;
            }
        }
        System.out.println("java.util.zip.ZipInputStream: " + entries + " entries ok");
    }
}
