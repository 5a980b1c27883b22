package io.quejava.examples.spring;

import java.util.Map;
import org.springframework.http.HttpStatus;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.ExceptionHandler;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;

/**
 * {@code POST /orders} with {@code {"email": "...", "amountCents": 1234}} places an order
 * ({@code ?fail=true} makes the transaction fail after the enqueue); {@code GET /orders/{id}} reads
 * one back.
 */
@RestController
@RequestMapping("/orders")
public class OrderController {
  /** The request body. */
  public record OrderRequest(String email, long amountCents) {}

  private final OrderService orders;

  public OrderController(OrderService orders) {
    this.orders = orders;
  }

  @PostMapping
  public ResponseEntity<OrderService.Placed> place(@RequestBody OrderRequest request,
      @RequestParam(name = "fail", defaultValue = "false") boolean fail) {
    if (request.email() == null || request.email().isBlank() || request.amountCents() <= 0) {
      throw new IllegalArgumentException("email must be given and amountCents must be positive");
    }
    return ResponseEntity.status(HttpStatus.CREATED).body(orders.place(request.email(), request.amountCents(), fail));
  }

  @GetMapping("/{id}")
  public ResponseEntity<Map<String, Object>> get(@PathVariable("id") long id) {
    return ResponseEntity.of(orders.find(id));
  }

  @ExceptionHandler(IllegalArgumentException.class)
  ResponseEntity<Map<String, String>> badRequest(IllegalArgumentException e) {
    return ResponseEntity.badRequest().body(Map.of("error", e.getMessage()));
  }

  @ExceptionHandler(IllegalStateException.class)
  ResponseEntity<Map<String, String>> failed(IllegalStateException e) {
    return ResponseEntity.internalServerError().body(Map.of("error", e.getMessage()));
  }
}
