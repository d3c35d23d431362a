// Licensed under a 3-clause BSD style license - see LICENSE.rst
// Test referee: reads one ADQL query per line on stdin and prints "OK" or "ERR <message>"
// per line, as judged by the ADQL 2.0 parser of the adql library (VOLLT, which ESO's
// tap_obs runs). Run as a single-file program: java -cp adql.jar AdqlCheck.java
import adql.parser.ADQLParser;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;

public class AdqlCheck {
    public static void main(String[] args) throws Exception {
        BufferedReader in = new BufferedReader(
            new InputStreamReader(System.in, StandardCharsets.UTF_8));
        String line;
        while ((line = in.readLine()) != null) {
            try {
                new ADQLParser().parseQuery(line);
                System.out.println("OK");
            } catch (Throwable error) {
                System.out.println("ERR " + String.valueOf(error.getMessage())
                                   .replace('\n', ' ').replace('\r', ' '));
            }
        }
    }
}
