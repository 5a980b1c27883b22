package io.quejava.spring;

import io.quejava.HandlerProvider;
import io.quejava.JobHandler;
import io.quejava.RunningJob;
import io.quejava.WorkMap;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import org.springframework.aop.support.AopUtils;
import org.springframework.beans.BeansException;
import org.springframework.beans.factory.config.BeanPostProcessor;
import org.springframework.core.annotation.AnnotatedElementUtils;
import org.springframework.util.ReflectionUtils;

/**
 * Collects the application's job handlers as its beans are created: beans that implement {@link
 * JobHandler} and carry {@link QueJob}, methods annotated with {@link QueJob}, and beans that
 * implement {@link HandlerProvider}. {@link #workMap()} builds them into one {@link WorkMap}; a job
 * class registered twice fails there.
 */
public class QueJobHandlers implements BeanPostProcessor {
  private final List<Consumer<WorkMap.Builder>> registrations = new ArrayList<>();

  @Override
  public Object postProcessAfterInitialization(Object bean, String beanName) throws BeansException {
    Class<?> type = AopUtils.getTargetClass(bean);
    if (bean instanceof JobHandler handler) {
      QueJob job = AnnotatedElementUtils.findMergedAnnotation(type, QueJob.class);
      if (job != null) {
        add(work -> work.put(job.value(), handler));
      }
    }
    if (bean instanceof HandlerProvider provider) {
      add(provider::register);
    }
    ReflectionUtils.doWithMethods(type, method -> {
      QueJob job = AnnotatedElementUtils.findMergedAnnotation(method, QueJob.class);
      if (job != null) {
        Method invocable = AopUtils.selectInvocableMethod(method, bean.getClass());
        add(methodHandler(job.value(), bean, beanName, invocable));
      }
    }, ReflectionUtils.USER_DECLARED_METHODS);
    return bean;
  }

  private synchronized void add(Consumer<WorkMap.Builder> registration) {
    registrations.add(registration);
  }

  /** Whether any handler was found. */
  public synchronized boolean isEmpty() {
    return registrations.isEmpty();
  }

  /** Every handler found so far, in one map. */
  public synchronized WorkMap workMap() {
    WorkMap.Builder work = WorkMap.builder();
    registrations.forEach(r -> r.accept(work));
    return work.build();
  }

  private static Consumer<WorkMap.Builder> methodHandler(String jobClass, Object bean, String beanName, Method method) {
    Class<?>[] params = method.getParameterTypes();
    String where = beanName + "." + method.getName();
    ReflectionUtils.makeAccessible(method);
    if (params.length == 1 && params[0] == RunningJob.class) {
      return work -> work.put(jobClass, job -> invoke(method, bean, job));
    }
    if ((params.length == 1 || params.length == 2 && params[1] == RunningJob.class) && params[0].isRecord()) {
      @SuppressWarnings("unchecked")
      Class<? extends Record> argsType = (Class<? extends Record>) params[0];
      boolean withJob = params.length == 2;
      return work -> putTyped(work, jobClass, argsType, bean, method, withJob);
    }
    throw new IllegalStateException("@QueJob(\"" + jobClass + "\") on " + where
        + ": the parameters must be (Record), (Record, RunningJob) or (RunningJob)");
  }

  private static <A extends Record> void putTyped(
      WorkMap.Builder work, String jobClass, Class<A> argsType, Object bean, Method method, boolean withJob) {
    work.put(jobClass, argsType, (args, job) -> {
      if (withJob) {
        invoke(method, bean, args, job);
      } else {
        invoke(method, bean, args);
      }
    });
  }

  private static void invoke(Method method, Object bean, Object... args) throws Exception {
    try {
      method.invoke(bean, args);
    } catch (InvocationTargetException e) {
      Throwable cause = e.getCause();
      if (cause instanceof Exception ex) {
        throw ex;
      }
      if (cause instanceof Error err) {
        throw err;
      }
      throw e;
    }
  }
}
